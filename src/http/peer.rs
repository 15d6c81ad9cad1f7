//! Who is on the other end: trusted proxies, the client IP for logs, and the TLS session's
//! client certificate.

use std::net::IpAddr;

use actix_web::HttpRequest;
use ipnet::IpNet;

/// `server.trusted_proxies`, matched against the TCP peer only.
#[derive(Debug, Clone, Default)]
pub struct Proxies(Vec<IpNet>);

impl Proxies {
    pub fn new(networks: Vec<IpNet>) -> Self {
        Self(networks)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client address for logs: the peer, or the rightmost untrusted `X-Forwarded-For`
    /// address when the peer is a trusted proxy.
    pub fn client_ip(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = canonical(req.peer_addr()?.ip());
        if !self.contains(peer) {
            return Some(peer);
        }
        let forwarded: Vec<IpAddr> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|s| s.trim().parse::<IpAddr>().ok())
            .map(canonical)
            .collect();
        Some(
            forwarded
                .into_iter()
                .rev()
                .find(|ip| !self.contains(*ip))
                .unwrap_or(peer),
        )
    }
}

/// IPv4-mapped IPv6 addresses compare as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// DER certificates the client presented in this TLS session (leaf first); stored per
/// connection by the listener's `on_connect` hook.
#[derive(Debug, Clone)]
pub struct PeerCertificates(pub Vec<Vec<u8>>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_cidrs_plain_addresses_and_mapped_ipv4() {
        let net = |text: &str| text.parse().unwrap_or_else(|e| panic!("{e}"));
        let proxies = Proxies::new(vec![net("10.0.0.0/8"), net("192.0.2.7/32")]);
        assert!(proxies.contains("10.1.2.3".parse().unwrap_or_else(|_| unreachable!())));
        assert!(proxies.contains(
            "::ffff:192.0.2.7"
                .parse()
                .unwrap_or_else(|_| unreachable!())
        ));
        assert!(!proxies.contains("192.0.2.8".parse().unwrap_or_else(|_| unreachable!())));
    }
}
