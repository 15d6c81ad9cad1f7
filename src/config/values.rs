//! Domain values read straight from configuration strings, parsed once, with messages that say
//! what is expected and never repeat the value (it may be a misplaced secret).
//!
//! Used with `#[serde(deserialize_with = ...)]`, so that the rest of the gateway receives a
//! `SocketAddr`, a `Url`, an `IpNet`, a `Regex` or an enum, never a string to parse again.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

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
