//! Compact JWS as the emulator's clients send them (signed backchannel requests, DPoP proofs):
//! the parts, the asymmetric algorithms it verifies, picking the verifying JWK, and RFC 7638
//! thumbprints. Signatures are checked with `jsonwebtoken`.

use std::str::FromStr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The JWS algorithms the emulator verifies (all asymmetric; `ring` has no ES512 or ES256K).
pub(crate) const VERIFIED_ALGS: [&str; 9] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

/// Why a compact serialization is not a usable JWS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Malformed {
    /// Five parts: a JWE.
    Encrypted,
    /// Not three base64url parts with a JSON object header.
    NotJose,
    /// `alg` is `none`.
    Unsigned,
    /// No `alg` at all.
    NoAlg,
    /// The payload is not a JSON object.
    Payload,
}

/// A parsed, not yet verified, compact JWS.
#[derive(Debug)]
pub(crate) struct Jws<'a> {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    /// `BASE64URL(header) "." BASE64URL(payload)`: what the signature covers.
    signing_input: &'a str,
    signature: &'a str,
}

impl<'a> Jws<'a> {
    pub fn parse(text: &'a str) -> Result<Jws<'a>, Malformed> {
        let parts: Vec<&str> = text.split('.').collect();
        if parts.len() == 5 {
            return Err(Malformed::Encrypted);
        }
        let [header, payload, signature] = parts[..] else {
            return Err(Malformed::NotJose);
        };
        let header = decode_object(header).ok_or(Malformed::NotJose)?;
        if header.contains_key("enc") {
            return Err(Malformed::Encrypted);
        }
        match header.get("alg").and_then(Value::as_str) {
            None => return Err(Malformed::NoAlg),
            Some("none") => return Err(Malformed::Unsigned),
            Some(_) if signature.is_empty() => return Err(Malformed::Unsigned),
            Some(_) => {}
        }
        let claims = decode_object(payload).ok_or(Malformed::Payload)?;
        let signing_input = &text[..text.len() - signature.len() - 1];
        Ok(Jws {
            header,
            claims,
            signing_input,
            signature,
        })
    }

    /// The header's `alg` (present: `parse` refuses a JWS without one).
    pub fn alg(&self) -> &str {
        self.header.get("alg").and_then(Value::as_str).unwrap_or("")
    }

    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    /// Checks the signature with `jwk`: `Ok(false)` when it does not match, `Err` when the key
    /// cannot verify with this algorithm at all.
    pub fn verify(&self, jwk: &Value) -> Result<bool, String> {
        let alg = asymmetric(self.alg()).ok_or("not an asymmetric algorithm")?;
        if !fits(jwk, self.alg()) {
            return Err("the key does not fit the algorithm".into());
        }
        let key = decoding_key(jwk)?;
        jsonwebtoken::crypto::verify(self.signature, self.signing_input.as_bytes(), &key, alg)
            .map_err(|e| e.to_string())
    }
}

fn decode_object(part: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// The algorithm named `name` if it is one the emulator verifies.
pub(crate) fn asymmetric(name: &str) -> Option<Algorithm> {
    if !VERIFIED_ALGS.contains(&name) {
        return None;
    }
    Algorithm::from_str(name).ok()
}

/// `HS256`, `HS384`, `HS512`: MAC algorithms, which a public-key registration cannot verify.
pub(crate) fn is_symmetric(name: &str) -> bool {
    name.starts_with("HS")
}

/// Whether `jwk` can verify signatures of `alg`: its key type and curve fit, and its `use`
/// and `alg`, when present, allow it.
pub(crate) fn fits(jwk: &Value, alg: &str) -> bool {
    let member = |name| jwk.get(name).and_then(Value::as_str);
    let shape = match (member("kty"), member("crv")) {
        (Some("RSA"), _) => alg.starts_with("RS") || alg.starts_with("PS"),
        (Some("EC"), Some("P-256")) => alg == "ES256",
        (Some("EC"), Some("P-384")) => alg == "ES384",
        (Some("OKP"), Some("Ed25519")) => alg == "EdDSA",
        _ => false,
    };
    shape && member("use").is_none_or(|u| u == "sig") && member("alg").is_none_or(|a| a == alg)
}

/// The keys of `jwks` that can verify `alg`, narrowed to `kid` when the JWS names one.
pub(crate) fn candidates<'k>(jwks: &'k Value, alg: &str, kid: Option<&str>) -> Vec<&'k Value> {
    let keys = jwks.get("keys").and_then(Value::as_array);
    keys.into_iter()
        .flatten()
        .filter(|jwk| fits(jwk, alg))
        .filter(|jwk| kid.is_none_or(|kid| jwk.get("kid").and_then(Value::as_str) == Some(kid)))
        .collect()
}

fn decoding_key(jwk: &Value) -> Result<DecodingKey, String> {
    let member = |name: &str| {
        jwk.get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("the JWK has no '{name}'"))
    };
    let key = match member("kty")? {
        "RSA" => DecodingKey::from_rsa_components(member("n")?, member("e")?),
        "EC" => DecodingKey::from_ec_components(member("x")?, member("y")?),
        "OKP" => DecodingKey::from_ed_components(member("x")?),
        other => return Err(format!("unsupported key type '{other}'")),
    };
    key.map_err(|e| e.to_string())
}

/// The RFC 7638 thumbprint (SHA-256, base64url) of a public JWK; `None` for a key type it
/// does not cover or a member missing.
pub(crate) fn thumbprint(jwk: &Value) -> Option<String> {
    let member = |name: &str| jwk.get(name).and_then(Value::as_str);
    let required: &[&str] = match member("kty")? {
        "RSA" => &["e", "kty", "n"],
        "EC" => &["crv", "kty", "x", "y"],
        "OKP" => &["crv", "kty", "x"],
        _ => return None,
    };
    let mut canonical = Map::new();
    for name in required {
        canonical.insert((*name).to_owned(), Value::String(member(name)?.to_owned()));
    }
    // serde_json's map keeps keys sorted, which is the order RFC 7638 asks for.
    let text = serde_json::to_string(&canonical).ok()?;
    Some(URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_rfc_7638_example_thumbprint() {
        let jwk = json!({
            "kty": "RSA", "e": "AQAB", "alg": "RS256", "kid": "2011-04-29",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
        });
        assert_eq!(
            thumbprint(&jwk).unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn shapes_that_are_not_a_jws() {
        let b64 = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let header = b64(json!({"alg": "RS256"}));
        let payload = b64(json!({"iss": "a"}));
        assert_eq!(Jws::parse("a.b.c.d.e").unwrap_err(), Malformed::Encrypted);
        assert_eq!(Jws::parse("not a jws").unwrap_err(), Malformed::NotJose);
        let none = format!("{}.{payload}.", b64(json!({"alg": "none"})));
        assert_eq!(Jws::parse(&none).unwrap_err(), Malformed::Unsigned);
        let text = format!("{header}.{}.sig", b64(json!([1])));
        assert_eq!(Jws::parse(&text).unwrap_err(), Malformed::Payload);
        let jws_text = format!("{header}.{payload}.sig");
        let jws = Jws::parse(&jws_text).unwrap();
        assert_eq!(jws.alg(), "RS256");
        assert_eq!(jws.claims["iss"], "a");
    }

    #[test]
    fn keys_fit_their_algorithms_only() {
        let ec = json!({"kty": "EC", "crv": "P-256", "x": "a", "y": "b"});
        assert!(fits(&ec, "ES256"));
        assert!(!fits(&ec, "ES384"));
        assert!(!fits(&ec, "RS256"));
        let rsa = json!({"kty": "RSA", "n": "a", "e": "AQAB", "use": "enc"});
        assert!(!fits(&rsa, "RS256"), "an encryption key does not verify");
        let set = json!({"keys": [ec, {"kty": "EC", "crv": "P-256", "kid": "k2"}]});
        assert_eq!(candidates(&set, "ES256", None).len(), 2);
        assert_eq!(candidates(&set, "ES256", Some("k2")).len(), 1);
        assert!(asymmetric("HS256").is_none());
        assert!(asymmetric("ES512").is_none());
    }
}
