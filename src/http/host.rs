//! Which `Host` the admin listener's guarded routes answer (SPEC §2): a loopback literal,
//! `localhost`, or a name in `admin.allowed_hosts`, parsed strictly.

use std::net::{IpAddr, Ipv6Addr};

/// The host of a `Host` value (RFC 9110 §7.2: `uri-host [ ":" port ]`), or `None` when the
/// value is not one. An IP literal must be followed by nothing or `:port`.
fn parse_host(value: &str) -> Option<Host<'_>> {
    let (host, port) = match value.strip_prefix('[') {
        Some(rest) => {
            let (literal, after) = rest.split_once(']')?;
            let ip = literal.parse::<Ipv6Addr>().ok()?;
            let port = match after {
                "" => "",
                _ => after.strip_prefix(':')?,
            };
            (Host::Ip(IpAddr::V6(ip)), port)
        }
        None => {
            let (name, port) = value.split_once(':').unwrap_or((value, ""));
            if name.is_empty() {
                return None;
            }
            match name.parse::<IpAddr>() {
                Ok(ip) => (Host::Ip(ip), port),
                Err(_) if is_reg_name(name) => (Host::Name(name), port),
                Err(_) => return None,
            }
        }
    };
    let port_ok = port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
    port_ok.then_some(host)
}

enum Host<'a> {
    Ip(IpAddr),
    Name(&'a str),
}

/// A DNS name as a `Host` may carry it: letters, digits, `-`, `.` and `_` (found in internal
/// DNS names, and accepted by `admin.allowed_hosts`).
fn is_reg_name(name: &str) -> bool {
    name.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
}

/// A loopback literal, `localhost`, or an allowed name or address (names case-insensitive,
/// addresses compared as addresses, so `[fd00::1]` and `fd00:0::1` are one).
pub fn host_allowed(value: &str, allowed: &[String]) -> bool {
    match parse_host(value.trim()) {
        Some(Host::Ip(ip)) => {
            ip.is_loopback()
                || matches!(ip, IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()))
                || allowed
                    .iter()
                    .any(|a| a.trim_matches(['[', ']']).parse::<IpAddr>() == Ok(ip))
        }
        Some(Host::Name(name)) => {
            name.eq_ignore_ascii_case("localhost")
                || allowed.iter().any(|a| a.eq_ignore_ascii_case(name))
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_loopback_localhost_and_allowed_names_only() {
        let allowed = vec![
            "admin.internal".to_owned(),
            "ops_admin.internal".to_owned(),
            "10.1.2.3".to_owned(),
            "[fd00::1]".to_owned(),
            // Listed, but no `Host` of the strict grammar can name it.
            "admin!internal".to_owned(),
        ];
        for ok in [
            "127.0.0.1:9464",
            "127.1.2.3",
            "[::1]:9464",
            "[::1]",
            "[::ffff:127.0.0.1]:80",
            "LOCALHOST:9464",
            "localhost:",
            "Admin.Internal:9464",
            "ops_admin.internal:9464",
            "10.1.2.3:9464",
            "[fd00:0::1]:9464",
        ] {
            assert!(host_allowed(ok, &allowed), "{ok}");
        }
        for refused in [
            "evil.example",
            "10.0.0.1:9464",
            "[2001:db8::1]",
            "localhost.evil.example",
            "[::1]evil",
            "[::1]:80evil",
            "[::1]:9464:1",
            "[127.0.0.1]",
            "::1",
            "127.0.0.1:80:80",
            "127.0.0.1:123456",
            "localhost:port",
            "localhost@evil.example",
            "localhost evil",
            "admin!internal",
            ":9464",
            "",
        ] {
            assert!(!host_allowed(refused, &allowed), "{refused}");
        }
    }
}
