//! Cross-key validation, listing every problem at once, one line each, each naming its key.
//!
//! Deserialization has already checked types and unknown keys; this pass checks values and the
//! rules that tie keys together. Messages never contain secret values.

mod authlete;
mod device;
mod emulator;
mod server;
mod state;
mod users;

use std::fmt::Display;
use std::time::Duration;

use url::Url;

use super::Settings;

pub(super) fn validate(settings: &Settings) -> Vec<String> {
    let mut problems = Problems::default();
    server::check(settings, &mut problems);
    authlete::check(settings, &mut problems);
    users::check(settings, &mut problems);
    device::check(settings, &mut problems);
    emulator::check(settings, &mut problems);
    state::check(settings, &mut problems);
    problems.0
}

/// The problems found so far.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn add(&mut self, key: impl Display, message: impl Display) {
        self.0.push(format!("{key}: {message}"));
    }

    /// `value` ≥ `min` (1 for counts where 0 would disable the feature silently).
    fn at_least(&mut self, key: impl Display, value: u64, min: u64) {
        if value < min {
            self.add(key, format!("must be at least {min}"));
        }
    }

    /// At least one of the key's unit, for durations where 0 would disable the feature silently.
    fn not_zero(&mut self, key: impl Display, value: Duration) {
        if value.is_zero() {
            self.add(key, "must be at least 1");
        }
    }

    /// Plain `http` only where the key's `allow_insecure_http` says so.
    fn https_unless(&mut self, key: impl Display, url: &Url, allow_http: bool) {
        if url.scheme() == "http" && !allow_http {
            self.add(key, "must be https (or set allow_insecure_http = true)");
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

fn is_sha256_hex(value: &str) -> bool {
    value.len() == 64
        && value
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
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
