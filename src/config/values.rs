//! Domain values read straight from configuration strings, parsed once, with messages that say
//! what is expected and never repeat the value (it may be a misplaced secret).
//!
//! Used with `#[serde(deserialize_with = ...)]`, so that the rest of the gateway receives a
//! `SocketAddr`, a `Url`, an `IpNet`, a `Regex`, a `Duration` or an enum, never a string to parse
//! or a number to convert again.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ipnet::IpNet;
use regex::Regex;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use url::Url;

/// Which header carries the client certificate from a trusted TLS-terminating proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertHeader {
    /// RFC 9440 `Client-Cert` (DER as a byte sequence) with `Client-Cert-Chain`.
    ClientCert,
    /// nginx's URL-encoded PEM (`$ssl_client_escaped_cert`).
    XSslCert,
}

impl CertHeader {
    /// Header names compare case-insensitively.
    fn parse(name: &str) -> Option<Self> {
        if name.eq_ignore_ascii_case("client-cert") {
            Some(CertHeader::ClientCert)
        } else if name.eq_ignore_ascii_case("x-ssl-cert") {
            Some(CertHeader::XSslCert)
        } else {
            None
        }
    }
}

/// A regular expression matched against a whole value (the pattern carries its anchors).
#[derive(Clone)]
pub struct Pattern(pub Regex);

impl Pattern {
    pub fn is_match(&self, text: &str) -> bool {
        self.0.is_match(text)
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

/// Reads a string and turns it into `T`, or fails with `expected` (the value is not echoed).
fn parse_str<'de, D, T>(
    deserializer: D,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    struct Text;
    impl Visitor<'_> for Text {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }
    }
    let text = deserializer.deserialize_str(Text)?;
    parse(&text).map_err(de::Error::custom)
}

fn to_socket_addr(text: &str) -> Result<SocketAddr, String> {
    text.parse()
        .map_err(|_| "must be a socket address such as 127.0.0.1:8080 or [::1]:8080".to_owned())
}

/// `ip:port`.
pub fn socket_addr<'de, D: Deserializer<'de>>(d: D) -> Result<SocketAddr, D::Error> {
    parse_str(d, to_socket_addr)
}

/// An absolute `http`/`https` URL with a host, no credentials and no fragment. Whether plain
/// `http` is allowed is a rule between keys, checked by validation.
pub fn parse_http_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value).map_err(|e| format!("must be an absolute http(s) URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http or https URL".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("must name a host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain credentials".into());
    }
    if url.fragment().is_some() {
        return Err("must not have a fragment (#...)".into());
    }
    Ok(url)
}

pub fn http_url<'de, D: Deserializer<'de>>(d: D) -> Result<Url, D::Error> {
    parse_str(d, parse_http_url)
}

pub fn opt_http_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Url>, D::Error> {
    parse_str(d, parse_http_url).map(Some)
}

/// An HTTP URL, or `""` for none.
pub fn empty_or_http_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Url>, D::Error> {
    parse_str(d, |value| {
        if value.is_empty() {
            Ok(None)
        } else {
            parse_http_url(value).map(Some)
        }
    })
}

/// A Redis URL for `state.redis.url`: `redis://` or `rediss://` (certificates verified), with a
/// host. The messages never repeat the value, which may hold a password.
pub fn parse_redis_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value).map_err(|e| format!("must be an absolute redis URL ({e})"))?;
    if !matches!(url.scheme(), "redis" | "rediss") {
        return Err("must be a redis:// or rediss:// URL".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("must name a host".into());
    }
    if url.fragment().is_some() {
        // `#insecure` would turn certificate verification off.
        return Err("must not have a fragment (#...)".into());
    }
    Ok(url)
}

/// A CIDR (`10.0.0.0/8`) or a single address (a /32 or /128).
fn to_network(text: &str) -> Result<IpNet, String> {
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| "must be a CIDR such as 10.0.0.0/8 or an IP address".to_owned())
}

/// A list of networks; one problem names every bad entry by its index.
pub fn networks<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<IpNet>, D::Error> {
    let texts = Vec::<String>::deserialize(d)?;
    let mut networks = Vec::with_capacity(texts.len());
    let mut bad = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        match to_network(text) {
            Ok(network) => networks.push(network),
            Err(_) => bad.push(format!("[{i}]")),
        }
    }
    if bad.is_empty() {
        Ok(networks)
    } else {
        Err(de::Error::custom(format!(
            "entries {} must each be a CIDR such as 10.0.0.0/8 or an IP address",
            bad.join(", ")
        )))
    }
}

/// A whole number of `unit`s, as the `*_ms` and `*_secs` keys hold them.
struct Whole(&'static str);

impl Visitor<'_> for Whole {
    type Value = u64;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a whole number of {}", self.0)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v)
            .map_err(|_| E::invalid_value(de::Unexpected::Other("a negative number"), &self))
    }
}

/// A `*_ms` key.
pub fn millis<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    d.deserialize_u64(Whole("milliseconds"))
        .map(Duration::from_millis)
}

/// A `*_secs` key.
pub fn secs<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    d.deserialize_u64(Whole("seconds")).map(Duration::from_secs)
}

pub fn pattern<'de, D: Deserializer<'de>>(d: D) -> Result<Pattern, D::Error> {
    parse_str(d, |text| {
        Regex::new(text).map(Pattern).map_err(|e| {
            // The message spans several lines (pattern, caret, reason): keep the reason.
            let message = e.to_string();
            let reason = message.lines().last().unwrap_or_default().to_owned();
            format!("is not a valid regular expression ({reason})")
        })
    })
}

pub fn opt_cert_header<'de, D: Deserializer<'de>>(d: D) -> Result<Option<CertHeader>, D::Error> {
    parse_str(d, |text| {
        CertHeader::parse(text)
            .map(Some)
            .ok_or_else(|| "must be Client-Cert (RFC 9440) or X-Ssl-Cert (nginx)".to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_accept_cidrs_and_single_addresses() {
        assert_eq!(to_network("10.0.0.0/8").ok(), "10.0.0.0/8".parse().ok());
        assert_eq!(to_network("::1").ok(), "::1/128".parse().ok());
        assert!(to_network("10.0.0.0/33").is_err());
        assert!(to_network("proxy.local").is_err());
    }

    #[derive(Debug, Deserialize)]
    struct Timing {
        #[serde(deserialize_with = "millis")]
        timeout_ms: Duration,
        #[serde(deserialize_with = "secs")]
        lifetime_secs: Duration,
    }

    #[test]
    fn durations_are_whole_numbers_of_the_unit_their_key_names() {
        let timing: Timing = toml::from_str("timeout_ms = 1500\nlifetime_secs = 0").unwrap();
        assert_eq!(timing.timeout_ms, Duration::from_millis(1500));
        assert_eq!(timing.lifetime_secs, Duration::ZERO);
        for (text, expected, value) in [
            ("timeout_ms = -7\nlifetime_secs = 1", "milliseconds", "-7"),
            ("timeout_ms = 1\nlifetime_secs = 2.5", "seconds", "2.5"),
            (
                "timeout_ms = \"7s\"\nlifetime_secs = 1",
                "milliseconds",
                "7s",
            ),
        ] {
            let message = toml::from_str::<Timing>(text)
                .unwrap_err()
                .message()
                .to_owned();
            assert!(
                message.contains(&format!("expected a whole number of {expected}")),
                "{message}"
            );
            // serde's own wording may quote the value; `decode::without_value` cuts it before
            // any message leaves the config layer, so check through it.
            let reported = crate::config::decode::without_value(&message);
            assert!(!reported.contains(value), "{reported}");
        }
    }

    #[test]
    fn cert_headers_compare_case_insensitively() {
        assert_eq!(CertHeader::parse("x-ssl-cert"), Some(CertHeader::XSslCert));
        assert_eq!(
            CertHeader::parse("CLIENT-CERT"),
            Some(CertHeader::ClientCert)
        );
        assert_eq!(CertHeader::parse("X-Client-Cert"), None);
    }
}
