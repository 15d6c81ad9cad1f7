//! The URLs the backend connects to (`url`, or a cluster's seed nodes): checked as the
//! configuration checks them, a warning for plain `redis://` to another host (SPEC §12), and
//! the TCP settings of every connection.
//! No message repeats a URL, which may hold a password (the URL parser's messages can).

use std::net::IpAddr;
use std::time::Duration;

use redis::io::tcp::{socket2::TcpKeepalive, TcpSettings};
use redis::{ConnectionInfo, IntoConnectionInfo};

use crate::config::{parse_redis_url, RedisSettings};

/// The URLs of `s` with the names of their settings: `url`, or on a cluster each seed node of
/// `urls`.
fn configured(s: &RedisSettings) -> Result<Vec<(String, &str)>, String> {
    if !s.cluster {
        let url = s.url.as_ref().map(|url| url.expose().trim());
        let url = url.ok_or("state.redis.url is required with state.backend = \"redis\"")?;
        return Ok(vec![("state.redis.url".to_owned(), url)]);
    }
    if s.urls.0.is_empty() {
        return Err("state.redis.urls is required with state.redis.cluster = true".into());
    }
    let named = s.urls.0.iter().enumerate();
    Ok(named
        .map(|(i, url)| (format!("state.redis.urls[{i}]"), url.expose().trim()))
        .collect())
}

/// The connection info of every URL of `s`, checked as the configuration checks it, with TCP
/// keepalive.
pub(super) fn endpoints(s: &RedisSettings) -> Result<Vec<ConnectionInfo>, String> {
    let mut infos = Vec::new();
    for (key, url) in configured(s)? {
        parse_redis_url(url).map_err(|e| format!("{key}: {e}"))?;
        let info = url
            .into_connection_info()
            .map_err(|_| format!("{key} is not a valid Redis URL"))?;
        let tcp = keepalive(info.tcp_settings().clone());
        infos.push(info.set_tcp_settings(tcp));
    }
    Ok(infos)
}

/// Logs one warning for each plain `redis://` URL of `s` to a host other than this one.
pub(super) fn warn_about_plain_text(s: &RedisSettings) {
    for (key, url) in configured(s).unwrap_or_default() {
        let Ok(parsed) = parse_redis_url(url) else {
            continue;
        };
        if parsed.scheme() == "redis" && !is_loopback(&parsed) {
            log::warn!(
                "{key} is plain redis:// to a non-loopback host: state and any password cross \
                 the network in the clear; use rediss://"
            );
        }
    }
}

/// TCP keepalive on every connection, so that a peer gone without a reset is noticed by the
/// kernel within about 25 s even when no command is waiting (a waiting command notices sooner,
/// by its timeout).
pub(super) fn keepalive(tcp: TcpSettings) -> TcpSettings {
    let probes = TcpKeepalive::new()
        .with_time(Duration::from_secs(10))
        .with_interval(Duration::from_secs(5));
    #[cfg(any(target_os = "linux", target_os = "macos", target_os = "freebsd"))]
    let probes = probes.with_retries(3);
    let tcp = tcp.set_keepalive(probes);
    // Also bounds how long written data may stay unacknowledged.
    #[cfg(target_os = "linux")]
    let tcp = tcp.set_user_timeout(Duration::from_secs(25));
    tcp
}

pub(super) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Whether `url` names this host. `redis://` is not a special scheme to the URL parser, so an
/// IPv4 address arrives as a domain name.
fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => {
            name == "localhost" || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_recognised_in_redis_urls() {
        for url in [
            "redis://127.0.0.1:6379",
            "redis://localhost",
            "redis://[::1]:6379",
        ] {
            assert!(is_loopback(&parse_redis_url(url).unwrap()), "{url}");
        }
        for url in ["redis://10.0.0.5:6379", "redis://redis.internal"] {
            assert!(!is_loopback(&parse_redis_url(url).unwrap()), "{url}");
        }
    }
}
