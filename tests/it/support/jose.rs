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

    /// A DPoP proof (RFC 9449 §4.2) for `htm` `htu` issued at `iat`, bound to `access_token`
    /// when given; ES256 for P-256 keys, PS256 for RSA.
    pub fn dpop_proof(&self, htm: &str, htu: &str, iat: i64, access_token: Option<&str>) -> String {
        use sha2::{Digest, Sha256};
        let alg = if self.jwk["kty"] == "EC" {
            "ES256"
        } else {
            "PS256"
        };
        let mut claims = json!({"jti": random_jti(), "htm": htm, "htu": htu, "iat": iat});
        if let Some(token) = access_token {
            claims["ath"] = URL_SAFE_NO_PAD
                .encode(Sha256::digest(token.as_bytes()))
                .into();
        }
        let header = json!({"typ": "dpop+jwt", "kid": null, "jwk": self.jwk});
        self.sign_with(alg, header, &claims)
    }

    /// The RFC 7638 thumbprint of the public key (`cnf.jkt`).
    pub fn jkt(&self) -> String {
        use sha2::{Digest, Sha256};
        let members: &[&str] = if self.jwk["kty"] == "EC" {
            &["crv", "kty", "x", "y"]
        } else {
            &["e", "kty", "n"]
        };
        let canonical: serde_json::Map<String, Value> = members
            .iter()
            .map(|m| ((*m).to_owned(), self.jwk[*m].clone()))
            .collect();
        URL_SAFE_NO_PAD.encode(Sha256::digest(
            Value::Object(canonical).to_string().as_bytes(),
        ))
    }

    /// `claims` signed with `alg`, the header naming this key's `kid`.
    pub fn sign(&self, alg: &str, claims: &Value) -> String {
        self.sign_with(alg, json!({}), claims)
    }
}

/// 128 random bits, hex: a fresh `jti`.
pub fn random_jti() -> String {
    use rand::Rng;
    format!("{:032x}", rand::thread_rng().gen::<u128>())
}

/// A JWK Set of `keys`, as the JSON text `[[emulator.clients]] jwks` takes.
pub fn jwks_text(keys: &[&ClientKey]) -> String {
    json!({"keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()}).to_string()
}
