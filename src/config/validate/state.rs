//! `[state]` (SPEC §12): the backend, and what `redis` needs.

use super::{is_blank, Problems};
use crate::config::{parse_redis_url, Secret, Settings, StateBackend};

/// The shortest `key_hash_secret`, in bytes.
const MIN_KEY_HASH_SECRET_BYTES: usize = 32;

pub(super) fn check(settings: &Settings, p: &mut Problems) {
    let redis = &settings.state.redis;
    let required = settings.state.backend == StateBackend::Redis;
    let url = redis.url.as_ref().map(Secret::expose);
    if is_blank(url) {
        if required {
            p.add(
                "state.redis.url",
                "is required with state.backend = \"redis\"",
            );
        }
    } else if let Err(message) = parse_redis_url(url.unwrap_or_default().trim()) {
        p.add("state.redis.url", message);
    }
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
}
