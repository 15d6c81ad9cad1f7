//! Client keys that sign real JWS (request objects, DPoP proofs): an RSA key (RS* and PS*) and
//! P-256 keys (ES256), with their public JWKs.

use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};

/// A private key a client signs with, and its public JWK.
pub struct ClientKey {
    encoding: EncodingKey,
    jwk: Value,
}

impl ClientKey {
    /// The process-wide 2048-bit RSA key (generated once: generation is slow).
    pub fn rsa() -> &'static ClientKey {
        static KEY: OnceLock<ClientKey> = OnceLock::new();
        KEY.get_or_init(|| {
            let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).unwrap();
            let der = key.to_pkcs1_der().unwrap();
            ClientKey {
                encoding: EncodingKey::from_rsa_der(der.as_bytes()),
                jwk: json!({
                    "kty": "RSA", "kid": "rsa-1",
                    "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
                    "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
                }),
            }
        })
    }

    /// The process-wide P-256 key, `ec-1`.
    pub fn p256() -> &'static ClientKey {
        static KEY: OnceLock<ClientKey> = OnceLock::new();
        KEY.get_or_init(|| ClientKey::ec("ec-1"))
    }

    /// A fresh P-256 key with key ID `kid`.
    pub fn ec(kid: &str) -> ClientKey {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        // The uncompressed point: 0x04 || x || y.
        let point = pair.public_key_raw();
        let (x, y) = point[1..].split_at(32);
        ClientKey {
            encoding: EncodingKey::from_ec_der(&pair.serialize_der()),
            jwk: json!({
                "kty": "EC", "crv": "P-256", "kid": kid,
                "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y),
            }),
        }
    }

    /// The public JWK.
    pub fn jwk(&self) -> &Value {
        &self.jwk
    }

    /// `claims` signed with `alg` under `header` members (`kid` defaults to the key's).
    pub fn sign_with(&self, alg: &str, header_members: Value, claims: &Value) -> String {
        let mut header = Header::new(alg.parse::<Algorithm>().unwrap());
        header.kid = self.jwk["kid"].as_str().map(str::to_owned);
        let mut header = serde_json::to_value(header).unwrap();
        header
            .as_object_mut()
            .unwrap()
            .extend(header_members.as_object().unwrap().clone());
        header.as_object_mut().unwrap().retain(|_, v| !v.is_null());
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let algorithm = alg.parse::<Algorithm>().unwrap();
        let signature =
            jsonwebtoken::crypto::sign(signing_input.as_bytes(), &self.encoding, algorithm)
                .unwrap();
        format!("{signing_input}.{signature}")
    }

    /// `claims` signed with `alg`, the header naming this key's `kid`.
    pub fn sign(&self, alg: &str, claims: &Value) -> String {
        self.sign_with(alg, json!({}), claims)
    }
}

/// A JWK Set of `keys`, as the JSON text `[[emulator.clients]] jwks` takes.
pub fn jwks_text(keys: &[&ClientKey]) -> String {
    json!({"keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()}).to_string()
}
