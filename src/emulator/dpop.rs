//! DPoP (RFC 9449): checking a proof the authorization server or resource server forwarded
//! (`dpop`, with `htm` and `htu`), and the thumbprint of its key that tokens are bound to.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::codes::{self, Code};
use super::jose::{asymmetric, is_symmetric, thumbprint, Jws, Malformed};
use super::state::Emulator;

/// What a proof is checked against.
pub(crate) struct Expected<'a> {
    /// The HTTP method of the request the proof came with.
    pub htm: &'a str,
    /// The endpoint URL, without query or fragment.
    pub htu: &'a str,
    /// At a protected resource: the access token the proof must be bound to (`ath`).
    pub access_token: Option<&'a str>,
}

/// Why a proof was refused, in the terms of Authlete's four DPoP codes per API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ProofError {
    /// The proof cannot be used; the text says why.
    Invalid(String),
    /// `alg` is symmetric or `none`.
    Symmetric(String),
    /// The header has no public key in JWK form.
    NoJwk,
    /// The header has no `alg`.
    NoAlg,
}

/// One API's codes for the four kinds of [`ProofError`].
pub(crate) struct Codes {
    pub invalid: Code,
    pub symmetric: Code,
    pub no_jwk: Code,
    pub no_alg: Code,
}

pub(crate) const TOKEN: Codes = Codes {
    invalid: codes::A254301,
    symmetric: codes::A254302,
    no_jwk: codes::A254303,
    no_alg: codes::A254304,
};
pub(crate) const USERINFO: Codes = Codes {
    invalid: codes::A089313,
    symmetric: codes::A089314,
    no_jwk: codes::A089315,
    no_alg: codes::A089316,
};
pub(crate) const INTROSPECTION: Codes = Codes {
    invalid: codes::A065310,
    symmetric: codes::A065311,
    no_jwk: codes::A065312,
    no_alg: codes::A065313,
};

impl ProofError {
    /// The code and its message argument in `api`'s terms.
    pub fn code(&self, api: &Codes) -> (Code, Vec<String>) {
        match self {
            Self::Invalid(why) => (api.invalid, vec![why.clone()]),
            Self::Symmetric(alg) => (api.symmetric, vec![alg.clone()]),
            Self::NoJwk => (api.no_jwk, Vec::new()),
            Self::NoAlg => (api.no_alg, Vec::new()),
        }
    }
}

fn invalid(why: &str) -> ProofError {
    ProofError::Invalid(why.to_owned())
}

/// Checks `proof` (RFC 9449 §4.3) and returns the thumbprint of its key. A proof is accepted
/// once: its `jti` is remembered for the proof window.
pub(crate) fn verify(
    state: &Emulator,
    proof: &str,
    expected: &Expected<'_>,
) -> Result<String, ProofError> {
    let jws = Jws::parse(proof).map_err(|malformed| match malformed {
        Malformed::NoAlg => ProofError::NoAlg,
        Malformed::Unsigned => ProofError::Symmetric("none".into()),
        Malformed::Encrypted | Malformed::NotJose => invalid("the DPoP proof is not a JWS"),
        Malformed::Payload => invalid("the payload of the DPoP proof is not a JSON object"),
    })?;
    if jws.header.get("typ").and_then(Value::as_str) != Some("dpop+jwt") {
        return Err(invalid("the 'typ' of the DPoP proof is not 'dpop+jwt'"));
    }
    let alg = jws.alg();
    if is_symmetric(alg) {
        return Err(ProofError::Symmetric(alg.to_owned()));
    }
    if asymmetric(alg).is_none() {
        return Err(invalid(&format!("the algorithm '{alg}' is not supported")));
    }
    let jwk = jws
        .header
        .get("jwk")
        .filter(|jwk| jwk.is_object() && !is_private(jwk))
        .ok_or(ProofError::NoJwk)?;
    let jkt = thumbprint(jwk).ok_or(ProofError::NoJwk)?;
    match jws.verify(jwk) {
        Ok(true) => {}
        _ => return Err(invalid("the signature of the DPoP proof is invalid")),
    }
    let claim = |name| jws.claims.get(name).and_then(Value::as_str);
    if claim("htm") != Some(expected.htm) {
        return Err(invalid("the 'htm' claim does not match the HTTP method"));
    }
    let htu = claim("htu").map(|htu| htu.split(['?', '#']).next().unwrap_or(htu));
    if htu != Some(expected.htu) {
        return Err(invalid("the 'htu' claim does not match the endpoint URL"));
    }
    if let Some(token) = expected.access_token {
        let ath = URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()));
        if claim("ath") != Some(ath.as_str()) {
            return Err(invalid("the 'ath' claim does not match the access token"));
        }
    }
    let now_ms = state.now_ms();
    let window_ms = u64::try_from(state.settings.dpop_proof_window.as_millis()).unwrap_or(u64::MAX);
    let iat_ms = jws
        .claims
        .get("iat")
        .and_then(Value::as_u64)
        .ok_or_else(|| invalid("the 'iat' claim is missing or not a number"))?
        .saturating_mul(1000);
    if iat_ms.abs_diff(now_ms) > window_ms {
        return Err(invalid("the 'iat' claim is outside the acceptable window"));
    }
    let jti = claim("jti")
        .filter(|jti| !jti.is_empty())
        .ok_or_else(|| invalid("the 'jti' claim is missing"))?;
    let key = format!("dpop:{jkt}:{jti}");
    let until = iat_ms.saturating_add(window_ms);
    if !state.store().first_use_of_jti(key, until, now_ms) {
        return Err(invalid("the DPoP proof has been used before"));
    }
    Ok(jkt)
}

fn is_private(jwk: &Value) -> bool {
    ["d", "p", "q", "dp", "dq", "qi", "k"]
        .iter()
        .any(|name| jwk.get(name).is_some())
}
