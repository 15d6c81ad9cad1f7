//! The SSRF guard's address rules (SPEC §6): which resolved addresses a client notification may
//! be sent to.
//!
//! An address is refused when the IANA IPv4 or IPv6 Special-Purpose Address Registry marks it
//! not globally reachable, unless the operator lists it in `notifications.allowed_networks` (or
//! sets `allow_private_networks`). Addresses that carry an IPv4 address inside an IPv6 one
//! (IPv4-mapped, IPv4-compatible, NAT64 and 6to4) are judged by the IPv4 address, since that is
//! where the packets finally go.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// Which addresses notifications may reach.
#[derive(Debug, Clone)]
pub struct AddressPolicy {
    allow_all: bool,
    allowed: Vec<IpNet>,
}

impl AddressPolicy {
    /// From `notifications.allowed_networks` and `allow_private_networks`.
    pub fn new(allowed: Vec<IpNet>, allow_private_networks: bool) -> Self {
        Self {
            allow_all: allow_private_networks,
            allowed,
        }
    }

    /// True when a notification may be sent to `ip`.
    pub fn permits(&self, ip: IpAddr) -> bool {
        if self.allow_all || is_globally_reachable(ip) {
            return true;
        }
        // `::ffff:127.0.0.1` is the host 127.0.0.1: an allowance for one covers the other.
        let canonical = ip.to_canonical();
        self.allowed
            .iter()
            .any(|net| net.contains(&ip) || net.contains(&canonical))
    }
}

/// True unless the IANA special-purpose registries mark `ip` not globally reachable (or it is
/// not a unicast address at all).
pub fn is_globally_reachable(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => ipv4_global(v4),
        IpAddr::V6(v6) => match embedded_ipv4(v6) {
            Some(v4) => ipv4_global(v4),
            None => ipv6_global(v6),
        },
    }
}

/// IPv4 blocks of the special-purpose registry that are not globally reachable. Multicast and
/// the deprecated 6to4 relay anycast block are added: neither is a unicast endpoint.
const IPV4_NOT_GLOBAL: &[(Ipv4Addr, u8)] = &[
    (Ipv4Addr::new(0, 0, 0, 0), 8),       // "this network"
    (Ipv4Addr::new(10, 0, 0, 0), 8),      // private use
    (Ipv4Addr::new(100, 64, 0, 0), 10),   // shared address space (CGN)
    (Ipv4Addr::new(127, 0, 0, 0), 8),     // loopback
    (Ipv4Addr::new(169, 254, 0, 0), 16),  // link local
    (Ipv4Addr::new(172, 16, 0, 0), 12),   // private use
    (Ipv4Addr::new(192, 0, 0, 0), 24),    // IETF protocol assignments (see exceptions)
    (Ipv4Addr::new(192, 0, 2, 0), 24),    // documentation (TEST-NET-1)
    (Ipv4Addr::new(192, 88, 99, 0), 24),  // deprecated 6to4 relay anycast
    (Ipv4Addr::new(192, 168, 0, 0), 16),  // private use
    (Ipv4Addr::new(198, 18, 0, 0), 15),   // benchmarking
    (Ipv4Addr::new(198, 51, 100, 0), 24), // documentation (TEST-NET-2)
    (Ipv4Addr::new(203, 0, 113, 0), 24),  // documentation (TEST-NET-3)
    (Ipv4Addr::new(224, 0, 0, 0), 4),     // multicast
    (Ipv4Addr::new(240, 0, 0, 0), 4),     // reserved, including 255.255.255.255
];

/// Globally reachable exceptions inside the blocks above: PCP and TURN anycast.
const IPV4_GLOBAL_EXCEPTIONS: &[Ipv4Addr] =
    &[Ipv4Addr::new(192, 0, 0, 9), Ipv4Addr::new(192, 0, 0, 10)];

fn ipv4_global(ip: Ipv4Addr) -> bool {
    if IPV4_GLOBAL_EXCEPTIONS.contains(&ip) {
        return true;
    }
    !IPV4_NOT_GLOBAL
        .iter()
        .any(|&(base, len)| Ipv4Net::new(base, len).is_ok_and(|net| net.contains(&ip)))
}

const fn v6(segments: [u16; 8]) -> Ipv6Addr {
    Ipv6Addr::new(
        segments[0],
        segments[1],
        segments[2],
        segments[3],
        segments[4],
        segments[5],
        segments[6],
        segments[7],
    )
}

/// IPv6 blocks of the special-purpose registry that are not globally reachable (Teredo and
/// ORCHID, marked "N/A", are refused too), plus multicast and deprecated site-local addresses.
/// `::/128`, `::1/128`, IPv4-mapped, IPv4-compatible, NAT64 and 6to4 are handled by
/// `embedded_ipv4`.
const IPV6_NOT_GLOBAL: &[(Ipv6Addr, u8)] = &[
    (v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0]), 48), // local-use IPv4/IPv6 translation
    (v6([0x100, 0, 0, 0, 0, 0, 0, 0]), 64),     // discard-only
    (v6([0x100, 0, 0, 1, 0, 0, 0, 0]), 64),     // dummy prefix
    (v6([0x2001, 0, 0, 0, 0, 0, 0, 0]), 23),    // IETF protocol assignments (see exceptions)
    (v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0]), 32), // documentation
    (v6([0x3fff, 0, 0, 0, 0, 0, 0, 0]), 20),    // documentation
    (v6([0x5f00, 0, 0, 0, 0, 0, 0, 0]), 16),    // segment routing SIDs
    (v6([0xfc00, 0, 0, 0, 0, 0, 0, 0]), 7),     // unique local
    (v6([0xfe80, 0, 0, 0, 0, 0, 0, 0]), 10),    // link local
    (v6([0xfec0, 0, 0, 0, 0, 0, 0, 0]), 10),    // site local (deprecated)
    (v6([0xff00, 0, 0, 0, 0, 0, 0, 0]), 8),     // multicast
];

/// Globally reachable blocks inside 2001::/23: PCP, TURN and DNS-SD SRP anycast, AMT,
/// AS112-v6, ORCHIDv2 and drone remote ID. (Teredo 2001::/32 stays refused: it tunnels to an
/// address it obfuscates.)
const IPV6_GLOBAL_EXCEPTIONS: &[(Ipv6Addr, u8)] = &[
    (v6([0x2001, 1, 0, 0, 0, 0, 0, 1]), 128),
    (v6([0x2001, 1, 0, 0, 0, 0, 0, 2]), 128),
    (v6([0x2001, 1, 0, 0, 0, 0, 0, 3]), 128),
    (v6([0x2001, 3, 0, 0, 0, 0, 0, 0]), 32),
    (v6([0x2001, 4, 0x112, 0, 0, 0, 0, 0]), 48),
    (v6([0x2001, 0x20, 0, 0, 0, 0, 0, 0]), 28),
    (v6([0x2001, 0x30, 0, 0, 0, 0, 0, 0]), 28),
];

fn in_any(ip: Ipv6Addr, blocks: &[(Ipv6Addr, u8)]) -> bool {
    blocks
        .iter()
        .any(|&(base, len)| Ipv6Net::new(base, len).is_ok_and(|net| net.contains(&ip)))
}

fn ipv6_global(ip: Ipv6Addr) -> bool {
    if ip.is_unspecified() || ip.is_loopback() {
        return false;
    }
    in_any(ip, IPV6_GLOBAL_EXCEPTIONS) || !in_any(ip, IPV6_NOT_GLOBAL)
}

/// The IPv4 address an IPv6 address stands for: IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible
/// `::a.b.c.d`, NAT64 `64:ff9b::a.b.c.d` and 6to4 `2002:aabb:ccdd::/48`.
fn embedded_ipv4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        // `::` and `::1` are the unspecified and loopback addresses, not IPv4-compatible ones.
        [0, 0, 0, 0, 0, 0, 0, 0 | 1] => None,
        [0, 0, 0, 0, 0, 0xffff | 0, _, _] => Some(low),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(low),
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::new(
            (hi >> 8) as u8,
            hi as u8,
            (lo >> 8) as u8,
            lo as u8,
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
