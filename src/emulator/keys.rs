//! The service's RSA signing key: generated once per process (key generation is slow, and
//! every emulator in a test run can share it) or loaded from `emulator.signing_key_file`.
//! It signs ID tokens (RS256), verifies `id_token_hint`s, and is published as a JWK.

use std::sync::{Arc, OnceLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{BigUint, RsaPrivateKey};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

const KEY_BITS: usize = 2048;

/// An RSA key pair with its JWK form.
pub(crate) struct SigningKey {
    kid: String,
    private: RsaPrivateKey,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

static GENERATED: OnceLock<Result<Arc<SigningKey>, String>> = OnceLock::new();

impl SigningKey {
    /// The process-wide generated key (blocking on first use).
    pub fn generated() -> std::io::Result<Arc<SigningKey>> {
        GENERATED
            .get_or_init(|| {
                let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, KEY_BITS)
                    .map_err(|e| e.to_string())?;
                Self::from_private(key).map(Arc::new)
            })
            .clone()
            .map_err(std::io::Error::other)
    }

    /// Loads a PKCS#8 or PKCS#1 PEM private key.
    pub fn from_pem_file(path: &str) -> std::io::Result<Arc<SigningKey>> {
        let pem = std::fs::read_to_string(path)?;
        let key = RsaPrivateKey::from_pkcs8_pem(&pem)
            .or_else(|_| RsaPrivateKey::from_pkcs1_pem(&pem))
            .map_err(|e| std::io::Error::other(format!("{path}: not an RSA private key: {e}")))?;
        Self::from_private(key)
            .map(Arc::new)
            .map_err(std::io::Error::other)
    }

    fn from_private(private: RsaPrivateKey) -> Result<SigningKey, String> {
        let der = private.to_pkcs1_der().map_err(|e| e.to_string())?;
        let encoding = EncodingKey::from_rsa_der(der.as_bytes());
        let n = b64(private.n());
        let e = b64(private.e());
        let decoding = DecodingKey::from_rsa_components(&n, &e).map_err(|e| e.to_string())?;
        // RFC 7638 thumbprint: members in lexicographic order, no whitespace.
        let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
        Ok(SigningKey {
            kid,
            private,
            encoding,
            decoding,
        })
    }

    /// The key as a JWK; private members only when asked for.
    pub fn jwk(&self, include_private: bool) -> Value {
        let mut jwk = json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
            "n": b64(self.private.n()), "e": b64(self.private.e()),
        });
        if include_private {
            let key = &self.private;
            let primes = key.primes();
            let members = [
                ("d", Some(key.d().clone())),
                ("p", primes.first().cloned()),
                ("q", primes.get(1).cloned()),
                ("dp", key.dp().cloned()),
                ("dq", key.dq().cloned()),
                ("qi", key.crt_coefficient()),
            ];
            for (name, value) in members {
                if let (Some(value), Some(map)) = (value, jwk.as_object_mut()) {
                    map.insert(name.into(), b64(&value).into());
                }
            }
        }
        jwk
    }

    /// Signs `claims` as an RS256 JWS carrying this key's `kid`.
    pub fn sign(&self, claims: &Value) -> Result<String, String> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).map_err(|e| e.to_string())
    }

    /// Signs `claims` as an RS256 JWS whose header also carries `extra` (`idtHeaderParams`);
    /// `alg` and `kid` stay this key's, since they say how to verify the signature.
    pub fn sign_with_header(
        &self,
        claims: &Value,
        extra: &Map<String, Value>,
    ) -> Result<String, String> {
        if extra.is_empty() {
            return self.sign(claims);
        }
        let mut header = extra.clone();
        header.insert("alg".into(), "RS256".into());
        header.insert("kid".into(), self.kid.clone().into());
        header.entry("typ").or_insert_with(|| "JWT".into());
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(Value::Object(header).to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature =
            jsonwebtoken::crypto::sign(signing_input.as_bytes(), &self.encoding, Algorithm::RS256)
                .map_err(|e| e.to_string())?;
        Ok(format!("{signing_input}.{signature}"))
    }

    /// Checks a JWS signed by this key and returns its claims; `exp` is not enforced because
    /// an `id_token_hint` may legitimately have expired.
    pub fn verify(&self, token: &str) -> Result<Map<String, Value>, jsonwebtoken::errors::Error> {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        jsonwebtoken::decode::<Map<String, Value>>(token, &self.decoding, &validation)
            .map(|data| data.claims)
    }
}

fn b64(value: &BigUint) -> String {
    URL_SAFE_NO_PAD.encode(value.to_bytes_be())
}

/// `at_hash`/`rt_hash`: the left half of SHA-256 of the token, base64url (OIDC Core 3.1.3.6).
pub(crate) fn half_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs8::EncodePrivateKey;

    #[test]
    fn a_pem_key_file_loads_as_the_same_key() {
        let generated = SigningKey::generated().unwrap();
        let pem = generated
            .private
            .to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
            .unwrap();
        let path = std::env::temp_dir().join(format!("emulator-key-{}.pem", std::process::id()));
        std::fs::write(&path, pem.as_bytes()).unwrap();
        let loaded = SigningKey::from_pem_file(path.to_str().unwrap()).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(loaded.kid, generated.kid);
        let token = loaded.sign(&json!({"sub": "alice"})).unwrap();
        assert_eq!(generated.verify(&token).unwrap()["sub"], "alice");
    }

    #[test]
    fn a_file_that_is_not_a_key_is_an_error() {
        let path = std::env::temp_dir().join(format!("emulator-nokey-{}.pem", std::process::id()));
        std::fs::write(&path, "not a key").unwrap();
        assert!(SigningKey::from_pem_file(path.to_str().unwrap()).is_err());
        std::fs::remove_file(&path).unwrap();
    }
}
