//! `[state]` (SPEC §12): the backend, and what `redis` needs.

use super::{is_blank, Problems};
use std::time::Duration;

use crate::config::{parse_redis_url, RedisSettings, Secret, Settings, StateBackend};

/// The shortest `key_hash_secret`, in bytes.
const MIN_KEY_HASH_SECRET_BYTES: usize = 32;
/// The shortest lease: shorter ones expire under ordinary network jitter.
const MIN_LEASE: Duration = Duration::from_millis(1000);
/// The longest replica name: it is stored with every claim.
const MAX_REPLICA_NAME: usize = 128;

pub(super) fn check(settings: &Settings, p: &mut Problems) {
    let redis = &settings.state.redis;
    let required = settings.state.backend == StateBackend::Redis;
    let url = redis.url.as_ref().map(Secret::expose);
    if is_blank(url) {
        if required && !redis.cluster {
            p.add(
                "state.redis.url",
                "is required with state.backend = \"redis\"",
            );
        }
    } else if let Err(message) = parse_redis_url(url.unwrap_or_default().trim()) {
        p.add("state.redis.url", message);
    }
    check_cluster(redis, required, p);
    if redis.key_prefix.is_empty() {
        p.add("state.redis.key_prefix", "must not be empty");
    } else if redis.key_prefix.contains(['{', '}']) {
        p.add(
            "state.redis.key_prefix",
            "must not contain { or } (it becomes the hash tag)",
        );
    }
    let secret = redis.key_hash_secret.as_ref().map(Secret::expose);
    if is_blank(secret) {
        if required {
            p.add(
                "state.redis.key_hash_secret",
                "is required with state.backend = \"redis\"",
            );
        }
    } else if secret.unwrap_or_default().len() < MIN_KEY_HASH_SECRET_BYTES {
        p.add(
            "state.redis.key_hash_secret",
            format!("must be at least {MIN_KEY_HASH_SECRET_BYTES} bytes"),
        );
    }
    p.not_zero("state.redis.connect_timeout_ms", redis.connect_timeout);
    p.not_zero("state.redis.command_timeout_ms", redis.command_timeout);
    if redis.lease < MIN_LEASE.max(redis.command_timeout * 3) {
        p.add(
            "state.redis.lease_ms",
            format!(
                "must be at least {} ms and 3 × command_timeout_ms (it is renewed every third)",
                MIN_LEASE.as_millis()
            ),
        );
    }
    p.at_least(
        "state.redis.outbox_capacity",
        redis.outbox_capacity as u64,
        1,
    );
    let name = &redis.replica_name;
    if name.len() > MAX_REPLICA_NAME || name.chars().any(|c| !c.is_ascii_graphic()) {
        p.add(
            "state.redis.replica_name",
            format!("must be at most {MAX_REPLICA_NAME} printable ASCII characters, no spaces"),
        );
    }
}

/// `cluster` takes its seed nodes from `urls`; `urls` means nothing without it.
fn check_cluster(redis: &RedisSettings, required: bool, p: &mut Problems) {
    if !redis.cluster {
        if !redis.urls.0.is_empty() {
            p.add(
                "state.redis.urls",
                "lists cluster seed nodes: set state.redis.cluster = true, or use url",
            );
        }
        return;
    }
    if redis.urls.0.is_empty() && required {
        p.add(
            "state.redis.urls",
            "is required with state.redis.cluster = true (the seed nodes)",
        );
    }
    if redis
        .url
        .as_ref()
        .is_some_and(|u| !u.expose().trim().is_empty())
    {
        p.add(
            "state.redis.url",
            "is not used with state.redis.cluster = true: list the seed nodes in urls",
        );
    }
    for (i, url) in redis.urls.0.iter().enumerate() {
        if let Err(message) = parse_redis_url(url.expose().trim()) {
            p.add(format!("state.redis.urls[{i}]"), message);
        }
    }
}
