//! `[authlete]` and `[cache]`.

use std::time::Duration;

use super::{is_blank, Problems};
use crate::config::{AuthleteSettings, Backend, Secret, Settings};

/// Authlete's smallest answers with an ID token or a JWK Set run to a few KiB: a lower bound
/// below which every call would fail.
const MIN_RESPONSE_BYTES: u64 = 64 * 1024;

/// Upper bound for durations handed to the caches (moka refuses absurd ones): one year.
const MAX_CACHE_TTL: Duration = Duration::from_secs(365 * 24 * 3600);

pub(super) fn check(settings: &Settings, p: &mut Problems) {
    let authlete = &settings.authlete;
    if !matches!(authlete.api_version, 2 | 3) {
        p.add("authlete.api_version", "must be 3 or 2");
    }
    match authlete.backend {
        Backend::Embedded => check_embedded(settings, p),
        Backend::Remote => check_remote(authlete, p),
    }
    for (key, value) in [
        ("connect_timeout_ms", authlete.connect_timeout),
        ("request_timeout_ms", authlete.request_timeout),
        ("token_timeout_ms", authlete.token_timeout),
        ("complete_timeout_ms", authlete.complete_timeout),
        ("retry_after_secs", authlete.retry_after),
    ] {
        p.not_zero(format!("authlete.{key}"), value);
    }
    p.at_least(
        "authlete.max_connections",
        authlete.max_connections as u64,
        1,
    );
    p.at_least(
        "authlete.max_response_bytes",
        authlete.max_response_bytes as u64,
        MIN_RESPONSE_BYTES,
    );
    check_cache(settings, p);
}

fn check_embedded(settings: &Settings, p: &mut Problems) {
    let authlete = &settings.authlete;
    let set_by_gateway = [
        ("base_url", authlete.base_url.is_some()),
        ("service_id", authlete.service_id.is_some()),
        ("access_token", authlete.access_token.is_some()),
        ("api_key", authlete.api_key.is_some()),
        ("api_secret", authlete.api_secret.is_some()),
    ];
    for (key, present) in set_by_gateway {
        if present {
            p.add(
                format!("authlete.{key}"),
                "must be absent with backend = \"embedded\" (the gateway sets it)",
            );
        }
    }
    let exposed = !settings.server.listen.ip().is_loopback();
    if exposed && !settings.emulator.allow_non_loopback {
        p.add(
            "server.listen",
            "must be a loopback address with backend = \"embedded\" (the emulator is for \
             development; set emulator.allow_non_loopback = true to override)",
        );
    }
}

fn check_remote(authlete: &AuthleteSettings, p: &mut Problems) {
    match &authlete.base_url {
        None => p.add("authlete.base_url", "is required with backend = \"remote\""),
        Some(url) if url.query().is_some() => {
            p.add("authlete.base_url", "must not have a query");
        }
        Some(_) => {}
    }
    let blank = |secret: &Option<Secret>| is_blank(secret.as_ref().map(Secret::expose));
    match authlete.api_version {
        3 => {
            let numeric = authlete.service_id.as_ref().is_some_and(|id| {
                !id.is_empty() && id.expose().bytes().all(|b| b.is_ascii_digit())
            });
            if !numeric {
                p.add(
                    "authlete.service_id",
                    "is required with api_version = 3 and must be the numeric service id",
                );
            }
            if blank(&authlete.access_token) {
                p.add("authlete.access_token", "is required with api_version = 3");
            }
        }
        2 => {
            if blank(&authlete.api_key) {
                p.add("authlete.api_key", "is required with api_version = 2");
            }
            if blank(&authlete.api_secret) {
                p.add("authlete.api_secret", "is required with api_version = 2");
            }
        }
        _ => {}
    }
}

fn check_cache(settings: &Settings, p: &mut Problems) {
    let cache = &settings.cache;
    for (key, value, zero_allowed) in [
        ("metadata_ttl_secs", cache.metadata_ttl, false),
        ("jwks_ttl_secs", cache.jwks_ttl, false),
        ("stale_if_error_secs", cache.stale_if_error, true),
    ] {
        if !zero_allowed {
            p.not_zero(format!("cache.{key}"), value);
        }
        if value > MAX_CACHE_TTL {
            p.add(
                format!("cache.{key}"),
                "must be at most one year (31536000)",
            );
        }
    }
    if settings.ciba.enforce_interval {
        p.at_least("cache.poll_max_entries", cache.poll_max_entries, 1);
    }
}
