//! Cross-key validation, listing every problem at once, one line each, each naming its key.
//!
//! Deserialization has already checked types and unknown keys; this pass checks values and the
//! rules that tie keys together. Messages never contain secret values.

mod authlete;
mod device;
mod emulator;
mod server;
mod users;

use std::fmt::Display;
use std::net::{IpAddr, SocketAddr};

use url::Url;

use super::Settings;

pub(super) fn validate(settings: &Settings) -> Vec<String> {
    let mut problems = Problems::default();
    server::check(settings, &mut problems);
    authlete::check(settings, &mut problems);
    users::check(settings, &mut problems);
    device::check(settings, &mut problems);
    emulator::check(settings, &mut problems);
    problems.0
}

/// The problems found so far.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn add(&mut self, key: impl Display, message: impl Display) {
        self.0.push(format!("{key}: {message}"));
    }

    /// `value` ≥ `min` (1 for counts and durations where 0 would disable the feature silently).
    fn at_least(&mut self, key: impl Display, value: u64, min: u64) {
        if value < min {
            self.add(key, format!("must be at least {min}"));
        }
    }

    /// A listen address: `ip:port`.
    fn socket_addr(&mut self, key: impl Display, value: &str) -> Option<SocketAddr> {
        match value.parse::<SocketAddr>() {
            Ok(addr) => Some(addr),
            Err(_) => {
                self.add(
                    key,
                    "must be a socket address such as 127.0.0.1:8080 or [::1]:8080",
                );
                None
            }
        }
    }

    /// An absolute `http`/`https` URL with a host and no credentials; `https` unless
    /// `allow_http`.
    fn http_url(&mut self, key: impl Display, value: &str, allow_http: bool) -> Option<Url> {
        match parse_http_url(value) {
            Ok(url) if url.scheme() == "http" && !allow_http => {
                self.add(key, "must be https (or set allow_insecure_http = true)");
                None
            }
            Ok(url) => Some(url),
            Err(message) => {
                self.add(key, message);
                None
            }
        }
    }

    /// A CIDR (`10.0.0.0/8`) or a single address.
    fn network(&mut self, key: impl Display, value: &str) {
        if value.parse::<ipnet::IpNet>().is_err() && value.parse::<IpAddr>().is_err() {
            self.add(key, "must be a CIDR such as 10.0.0.0/8 or an IP address");
        }
    }

    /// A file that exists and can be opened by this process.
    fn readable_file(&mut self, key: impl Display, path: &str) {
        let result = std::fs::File::open(path).and_then(|file| file.metadata());
        match result {
            Ok(meta) if meta.is_file() => {}
            Ok(_) => self.add(key, format!("{path} is not a regular file")),
            Err(e) => self.add(key, format!("cannot open {path}: {e}")),
        }
    }

    /// A hashed secret: 64 lowercase hexadecimal digits.
    fn sha256_hex(&mut self, key: impl Display, value: &str) {
        if !is_sha256_hex(value) {
            self.add(
                key,
                "must be a SHA-256 digest in 64 lowercase hexadecimal digits",
            );
        }
    }
}

fn parse_http_url(value: &str) -> Result<Url, String> {
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

fn is_sha256_hex(value: &str) -> bool {
    value.len() == 64
        && value
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}

/// An unset or empty optional value (an empty `*_file` yields an empty secret).
fn is_blank(value: Option<&str>) -> bool {
    value.is_none_or(|v| v.trim().is_empty())
}

/// An optional path that is set and not empty.
fn path_set(path: &Option<String>) -> Option<&str> {
    path.as_deref().filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests;
