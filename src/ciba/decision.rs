//! Decision tokens (SPEC §5.1): `v1.` + base64url(nonce ‖ ciphertext), sealed with
//! XChaCha20-Poly1305, so the Authlete ticket never leaves the gateway in the clear and any
//! replica holding the same keys can apply a decision.

use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::DeliveryMode;
use crate::config::SecretList;

const PREFIX: &str = "v1.";
const ASSOCIATED_DATA: &[u8] = b"authlete-gateway/decision/v1";
const NONCE_BYTES: usize = 24;
/// A token stays usable this long after the auth_req_id's expiry, for clock skew.
pub const EXPIRY_GRACE_SECS: u64 = 30;

/// What a decision token carries; member names are part of the format. Members this version
/// does not know are ignored, so that a replica opens the tokens (and reads the registry
/// entries) of a newer one during a rolling upgrade; only a holder of the key can add any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionClaims {
    pub ticket: String,
    pub subject: String,
    pub client_id: Option<String>,
    pub client_name: Option<String>,
    /// Lower case on the wire (`"poll"`), like every token sealed so far.
    pub delivery_mode: Option<DeliveryMode>,
    pub claim_names: Vec<String>,
    pub acrs: Vec<String>,
    /// Unix seconds.
    pub issued_at: u64,
    /// Unix seconds: the auth_req_id's expiry.
    pub expires_at: u64,
    /// The backchannel request's trace position (W3C `traceparent`), so that the decision,
    /// `/complete`, the notification and the deadline continue its trace (SPEC §13). Absent
    /// from tokens sealed before traces were kept; never a secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

/// Why a token was refused; every case answers 401 `invalid_token`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("malformed decision token")]
    Malformed,
    #[error("decision token sealed with an unknown key or altered")]
    Unverifiable,
    #[error("decision token expired")]
    Expired,
}

/// `device.decision_keys`: the first key seals, every key opens (rotation).
pub struct DecisionKeys {
    ciphers: Vec<XChaCha20Poly1305>,
    /// The keys themselves, for the state backend's subkeys (SPEC §12 "Secrets at rest").
    material: Vec<[u8; 32]>,
}

impl DecisionKeys {
    /// Decodes the configured keys: standard base64, padding optional, 32 bytes each.
    pub fn from_config(keys: &SecretList) -> Result<Self, String> {
        let material = keys
            .0
            .iter()
            .enumerate()
            .map(|(i, key)| {
                let bytes = STANDARD_NO_PAD
                    .decode(key.expose().trim().trim_end_matches('='))
                    .map_err(|_| format!("device.decision_keys[{i}] is not base64"))?;
                <[u8; 32]>::try_from(bytes.as_slice())
                    .map_err(|_| format!("device.decision_keys[{i}] is not 32 bytes"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if material.is_empty() {
            return Err("device.decision_keys is empty".into());
        }
        Ok(Self::new(material))
    }

    fn new(material: Vec<[u8; 32]>) -> Self {
        let ciphers = material
            .iter()
            .map(|key| XChaCha20Poly1305::new(key.into()))
            .collect();
        Self { ciphers, material }
    }

    /// One random key, for the embedded backend when none is configured.
    pub fn random() -> Self {
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        Self::new(vec![key])
    }

    /// The keys, in their order: the state backend derives its sealing subkeys from them.
    pub fn material(&self) -> &[[u8; 32]] {
        &self.material
    }

    /// Seals `claims` with the first key.
    pub fn seal(&self, claims: &DecisionClaims) -> Result<String, String> {
        self.seal_json(&serde_json::to_vec(claims).map_err(|e| e.to_string())?)
    }

    fn seal_json(&self, plaintext: &[u8]) -> Result<String, String> {
        let cipher = self.ciphers.first().ok_or("no decision key")?;
        let mut nonce = [0u8; NONCE_BYTES];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: ASSOCIATED_DATA,
                },
            )
            .map_err(|_| "sealing a decision token failed".to_owned())?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(out)))
    }

    /// Opens a token with any configured key and checks its expiry against `now_unix`.
    pub fn open(&self, token: &str, now_unix: u64) -> Result<DecisionClaims, TokenError> {
        let encoded = token.strip_prefix(PREFIX).ok_or(TokenError::Malformed)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| TokenError::Malformed)?;
        if bytes.len() <= NONCE_BYTES + 16 {
            return Err(TokenError::Malformed);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let plaintext = self
            .ciphers
            .iter()
            .find_map(|cipher| {
                let payload = Payload {
                    msg: sealed,
                    aad: ASSOCIATED_DATA,
                };
                cipher.decrypt(XNonce::from_slice(nonce), payload).ok()
            })
            .ok_or(TokenError::Unverifiable)?;
        let claims: DecisionClaims =
            serde_json::from_slice(&plaintext).map_err(|_| TokenError::Malformed)?;
        if now_unix > claims.expires_at.saturating_add(EXPIRY_GRACE_SECS) {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn keys(list: &[&str]) -> DecisionKeys {
        let list = SecretList(list.iter().map(|k| Secret::new(*k)).collect());
        DecisionKeys::from_config(&list).unwrap_or_else(|e| panic!("{e}"))
    }

    const KEY_A: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const KEY_B: &str = "HxwdHh8AAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRo"; // no padding

    /// The state backend derives its sealing subkeys from the configured keys, in their order.
    #[test]
    fn the_material_is_the_configured_keys_in_order() {
        let material = keys(&[KEY_A, KEY_B]).material().to_vec();
        let first: [u8; 32] = std::array::from_fn(|i| i as u8);
        assert_eq!(material.len(), 2);
        assert_eq!(material[0], first);
        assert_ne!(material[1], first);
        assert_eq!(keys(&[KEY_B, KEY_A]).material()[1], first);
    }

    fn claims() -> DecisionClaims {
        DecisionClaims {
            ticket: "ticket-secret".into(),
            subject: "alice".into(),
            client_id: Some("demo".into()),
            client_name: None,
            delivery_mode: Some(DeliveryMode::Poll),
            claim_names: vec!["email".into()],
            acrs: vec![],
            issued_at: 1000,
            expires_at: 1600,
            traceparent: None,
        }
    }

    #[test]
    fn a_sealed_token_opens_and_hides_the_ticket() {
        let keys = keys(&[KEY_A]);
        let token = keys.seal(&claims()).unwrap_or_default();
        assert!(token.starts_with("v1."));
        assert!(!token.contains("ticket"));
        assert_eq!(keys.open(&token, 1100), Ok(claims()));
    }

    #[test]
    fn rotation_opens_tokens_sealed_with_an_older_key() {
        let old = keys(&[KEY_B]);
        let token = old.seal(&claims()).unwrap_or_default();
        let rotated = keys(&[KEY_A, KEY_B]);
        assert_eq!(rotated.open(&token, 1100), Ok(claims()));
        assert_eq!(
            keys(&[KEY_A]).open(&token, 1100),
            Err(TokenError::Unverifiable)
        );
    }

    #[test]
    fn tampered_forged_and_expired_tokens_are_refused() {
        let keys = keys(&[KEY_A]);
        let token = keys.seal(&claims()).unwrap_or_default();
        let mut tampered = token.clone().into_bytes();
        let last = tampered.len() - 3;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap_or_default();
        assert_eq!(keys.open(&tampered, 1100), Err(TokenError::Unverifiable));
        assert_eq!(keys.open("v1.AAAA", 1100), Err(TokenError::Malformed));
        assert_eq!(keys.open("v2.xyz", 1100), Err(TokenError::Malformed));
        assert_eq!(
            keys.open(&token, 1630),
            Ok(claims()),
            "inside the grace period"
        );
        assert_eq!(keys.open(&token, 1631), Err(TokenError::Expired));
    }

    /// Anything no longer than a nonce and a tag holds no sealed claims: malformed, whatever
    /// its length, before any key is tried.
    #[test]
    fn a_token_too_short_to_hold_claims_is_malformed() {
        let keys = keys(&[KEY_A]);
        for len in 0..=NONCE_BYTES + 16 {
            let token = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(vec![7u8; len]));
            assert_eq!(
                keys.open(&token, 1100),
                Err(TokenError::Malformed),
                "{len} bytes"
            );
        }
        let token = format!(
            "{PREFIX}{}",
            URL_SAFE_NO_PAD.encode([7u8; NONCE_BYTES + 17])
        );
        assert_eq!(keys.open(&token, 1100), Err(TokenError::Unverifiable));
    }

    #[test]
    fn the_delivery_mode_is_a_lower_case_string_inside_the_token() {
        let json = serde_json::to_value(claims()).unwrap_or_default();
        assert_eq!(json["delivery_mode"], "poll");
        let mut ping = json;
        ping["delivery_mode"] = "ping".into();
        let opened: Result<DecisionClaims, _> = serde_json::from_value(ping);
        assert_eq!(
            opened.ok().and_then(|c| c.delivery_mode),
            Some(DeliveryMode::Ping)
        );
    }

    #[test]
    fn tokens_sealed_without_a_trace_still_open_and_the_trace_travels_when_present() {
        let keys = keys(&[KEY_A]);
        let old = serde_json::to_value(claims()).unwrap_or_default();
        assert!(old.get("traceparent").is_none(), "None is left out: {old}");
        let token = keys.seal(&claims()).unwrap_or_default();
        assert_eq!(keys.open(&token, 1100), Ok(claims()));
        let traced = DecisionClaims {
            traceparent: Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into()),
            ..claims()
        };
        let token = keys.seal(&traced).unwrap_or_default();
        assert_eq!(keys.open(&token, 1100), Ok(traced));
    }

    #[test]
    fn a_member_added_by_a_newer_version_is_ignored() {
        let keys = keys(&[KEY_A]);
        let mut newer = serde_json::to_value(claims()).unwrap_or_default();
        newer["added_later"] = serde_json::json!({"any": ["shape"]});
        let token = keys
            .seal_json(newer.to_string().as_bytes())
            .unwrap_or_default();
        assert_eq!(keys.open(&token, 1100), Ok(claims()));
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        let list = SecretList(vec![Secret::new("c2hvcnQ=")]);
        assert!(DecisionKeys::from_config(&list).is_err());
        let list = SecretList(vec![Secret::new("not base64!")]);
        assert!(DecisionKeys::from_config(&list).is_err());
    }
}
