//! Every Redis key, built in one place from `state.redis.key_prefix`.
//!
//! Every key starts with `{<key_prefix>}`: one hash tag, so every multi-key script runs on one
//! slot (SPEC §12). Ids in key names are HMAC-SHA256 under `state.redis.key_hash_secret`, in
//! lowercase hex; nothing in a key name or value is an auth_req_id or a credential.
//!
//! | key                    | type | fields                                 | TTL                  |
//! |------------------------|------|----------------------------------------|----------------------|
//! | `{p}:poll:<hmac(key)>` | hash | `interval_ms` from `/issue`; `caller`  | request lifetime     |
//! |                        |      | (32-byte digest) and `at` (µs, `TIME`) | + 60 s, set again by |
//! |                        |      | of the last poll answered pending;     | every write          |
//! |                        |      | only `ready` once the result is ready  |                      |
//!
//! `key` is the request key (SHA-256 of the auth_req_id, `ciba::request_key`).

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::state::RequestKey;

/// Builds key names; cheap to clone.
#[derive(Clone)]
pub struct Keys {
    /// `{<key_prefix>}`
    tag: String,
    secret: Vec<u8>,
}

impl Keys {
    pub fn new(key_prefix: &str, key_hash_secret: &[u8]) -> Self {
        Self {
            tag: format!("{{{key_prefix}}}"),
            secret: key_hash_secret.to_vec(),
        }
    }

    /// The poll entry of a request (SPEC §3.2).
    pub fn poll(&self, key: &RequestKey) -> String {
        format!("{}:poll:{}", self.tag, hex::encode(self.mac(&[key])))
    }

    /// A secret for `purpose` derived from `key_hash_secret`, the same on every replica.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        self.mac(&[b"authlete-gateway/state/", purpose.as_bytes()])
    }

    fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.secret) else {
            // HMAC takes keys of any length.
            return [0; 32];
        };
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_carry_the_hash_tag_and_no_id_in_the_clear() {
        let keys = Keys::new("agw", &[7; 32]);
        let key = keys.poll(&[0xab; 32]);
        assert!(key.starts_with("{agw}:poll:"), "{key}");
        assert_eq!(key.len(), "{agw}:poll:".len() + 64);
        assert!(!key.contains(&hex::encode([0xab; 32])));
        assert_ne!(key, Keys::new("agw", &[8; 32]).poll(&[0xab; 32]));
    }
}
