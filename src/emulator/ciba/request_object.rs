//! Signed backchannel authentication requests (CIBA Core §7.1.1): the `request` parameter holds
//! a JWS whose claims are the request's parameters. It is verified with the client's registered
//! JWK Set and algorithm (`request_signing_alg`, `jwks`), its `iss`, `aud`, `exp`, `iat`, `nbf`
//! and `jti` are checked, and FAPI-CIBA's rules apply to a client registered with `fapi_ciba`.

use serde_json::Value;

use super::{reject, Rejection};
use crate::emulator::clients::Authenticated;
use crate::emulator::codes::{self, Code};
use crate::emulator::jose::{candidates, is_symmetric, Jws, Malformed};
use crate::emulator::params::Params;
use crate::emulator::state::Emulator;

/// The CIBA request parameters: in a signed request they live in the JWT only.
const CIBA_PARAMETERS: [&str; 11] = [
    "scope",
    "client_notification_token",
    "acr_values",
    "login_hint_token",
    "id_token_hint",
    "login_hint",
    "binding_message",
    "user_code",
    "requested_expiry",
    "resource",
    "authorization_details",
];
/// Client authentication stays outside the JWT (CIBA Core §7.1.1).
const CLIENT_AUTHENTICATION: [&str; 3] =
    ["client_secret", "client_assertion", "client_assertion_type"];
/// FAPI-CIBA §5.2.3 (through FAPI 1 Advanced §8.6): PS256 or ES256 only.
const FAPI_ALGS: [&str; 2] = ["PS256", "ES256"];
/// FAPI 1 Advanced §5.2.2-13: a request object lives at most 60 minutes (`exp - nbf`).
const FAPI_MAX_LIFETIME_SECS: i64 = 3600;

const INVALID_REQUEST: &str = "invalid_request";

/// A verified request object: its parameters, and its `request_context` as JSON text.
pub(super) struct Signed {
    pub params: Params,
    pub request_context: Option<String>,
}

fn refuse(code: Code, args: &[&str]) -> Rejection {
    reject(code, args, INVALID_REQUEST)
}

/// The verified request object of `outer`, `None` when the request is not signed (which a
/// FAPI-CIBA client may not do).
pub(super) fn verify(
    state: &Emulator,
    client: &Authenticated<'_>,
    outer: &Params,
) -> Result<Option<Signed>, Rejection> {
    let c = client.client;
    let Some(request) = outer.get("request") else {
        if c.fapi_ciba {
            return Err(refuse(codes::A243303, &[]));
        }
        return Ok(None);
    };
    let Some(registered) = c.request_signing_alg.as_deref() else {
        return Err(refuse(codes::A167309, &[]));
    };
    if let Some(name) = CIBA_PARAMETERS.iter().find(|name| outer.count(name) > 0) {
        return Err(refuse(codes::A167301, &[name]));
    }
    let jws = Jws::parse(request).map_err(|malformed| {
        let code = match malformed {
            Malformed::Encrypted => codes::A167304,
            Malformed::NotJose => codes::A167302,
            Malformed::Unsigned | Malformed::NoAlg => codes::A167303,
            Malformed::Payload => codes::A167305,
        };
        refuse(code, &[])
    })?;
    check_signature(client, registered, &jws)?;
    let claims = Claims(&jws.claims);
    check_issuer(client, &claims)?;
    check_audience(state, &claims)?;
    let exp = claims.integer("exp")?;
    let iat = claims.integer("iat")?;
    let nbf = claims.integer("nbf")?;
    let jti = claims.string("jti")?;
    let now_ms = state.now_ms();
    let now = i64::try_from(now_ms / 1000).unwrap_or(i64::MAX);
    if exp <= now {
        return Err(refuse(codes::A167318, &[]));
    }
    if iat > now {
        return Err(refuse(codes::A167319, &[]));
    }
    if nbf > now {
        return Err(refuse(codes::A167320, &[]));
    }
    if c.fapi_ciba && exp.saturating_sub(nbf) > FAPI_MAX_LIFETIME_SECS {
        let limit = FAPI_MAX_LIFETIME_SECS.to_string();
        return Err(refuse(codes::A243304, &[&limit]));
    }
    if let Some(name) = CLIENT_AUTHENTICATION
        .iter()
        .find(|name| jws.claims.contains_key(**name))
    {
        return Err(refuse(codes::A167322, &[name]));
    }
    let request_context = match jws.claims.get("request_context") {
        None | Some(Value::Null) => None,
        Some(context @ Value::Object(_)) => Some(context.to_string()),
        Some(_) => return Err(refuse(codes::A167326, &[])),
    };
    let params = claims.parameters()?;
    // Last, so that a refused request object does not use up its `jti`. The catalogue has no
    // code for a replayed one; once used, a request object is treated as expired.
    let expires_ms = u64::try_from(exp).unwrap_or(0).saturating_mul(1000);
    let key = format!("request:{}:{jti}", c.id);
    if !state.store().first_use_of_jti(key, expires_ms, now_ms) {
        return Err(refuse(codes::A167318, &[]));
    }
    Ok(Some(Signed {
        params,
        request_context,
    }))
}

/// The algorithm is the registered asymmetric one, and exactly one registered key verifies
/// the signature.
fn check_signature(
    client: &Authenticated<'_>,
    registered: &str,
    jws: &Jws<'_>,
) -> Result<(), Rejection> {
    let alg = jws.alg();
    if is_symmetric(alg) {
        return Err(refuse(codes::A167308, &[]));
    }
    if alg != registered {
        return Err(refuse(codes::A167310, &[alg, registered]));
    }
    if client.client.fapi_ciba && !FAPI_ALGS.contains(&alg) {
        return Err(refuse(codes::A243306, &[alg]));
    }
    let Some(jwks) = &client.client.jwks else {
        return Err(refuse(codes::A167311, &[]));
    };
    let kid = jws.kid();
    let key = match candidates(jwks, alg, kid).as_slice() {
        [] => return Err(refuse(codes::A167312, &[alg, kid.unwrap_or("null")])),
        [key] => *key,
        _ => return Err(refuse(codes::A167313, &[alg, kid.unwrap_or("null")])),
    };
    match jws.verify(key) {
        Ok(true) => Ok(()),
        Ok(false) => Err(refuse(codes::A167314, &[])),
        Err(_) => Err(refuse(codes::A167325, &[])),
    }
}

/// `iss` is the client's identifier (its alias or its number).
fn check_issuer(client: &Authenticated<'_>, claims: &Claims<'_>) -> Result<(), Rejection> {
    let iss = match claims.0.get("iss") {
        None | Some(Value::Null) => return Err(refuse(codes::A167306, &[])),
        Some(Value::String(iss)) if iss.is_empty() => return Err(refuse(codes::A167306, &[])),
        Some(Value::String(iss)) => iss,
        Some(_) => return Err(refuse(codes::A167323, &["iss"])),
    };
    let c = client.client;
    if *iss != c.alias && *iss != c.id.to_string() {
        return Err(refuse(codes::A167307, &[]));
    }
    Ok(())
}

/// `aud` is, or contains, the issuer identifier.
fn check_audience(state: &Emulator, claims: &Claims<'_>) -> Result<(), Rejection> {
    match claims.0.get("aud") {
        None => Err(refuse(codes::A167315, &["aud"])),
        Some(Value::Null) => Err(refuse(codes::A167316, &["aud"])),
        Some(Value::String(aud)) if *aud == state.issuer => Ok(()),
        Some(Value::String(_)) => Err(refuse(codes::A167321, &[])),
        Some(Value::Array(items)) if items.iter().any(|a| *a == *state.issuer) => Ok(()),
        Some(Value::Array(_)) => Err(refuse(codes::A167324, &[])),
        Some(_) => Err(refuse(codes::A167321, &[])),
    }
}

/// The claims of a verified request object.
struct Claims<'a>(&'a serde_json::Map<String, Value>);

impl Claims<'_> {
    fn present(&self, name: &str) -> Result<&Value, Rejection> {
        match self.0.get(name) {
            None => Err(refuse(codes::A167315, &[name])),
            Some(Value::Null) => Err(refuse(codes::A167316, &[name])),
            Some(value) => Ok(value),
        }
    }

    /// A required NumericDate.
    fn integer(&self, name: &str) -> Result<i64, Rejection> {
        self.present(name)?
            .as_i64()
            .ok_or_else(|| refuse(codes::A167317, &[name]))
    }

    /// A required non-empty string.
    fn string(&self, name: &str) -> Result<String, Rejection> {
        match self.present(name)? {
            Value::String(text) if !text.is_empty() => Ok(text.clone()),
            _ => Err(refuse(codes::A167323, &[name])),
        }
    }

    /// The CIBA parameters the JWT carries, as the form a plain request would have sent:
    /// numbers as their text, `resource` as one value per element, `authorization_details`
    /// as its JSON text.
    fn parameters(&self) -> Result<Params, Rejection> {
        let mut pairs = Vec::new();
        for name in CIBA_PARAMETERS {
            match self.0.get(name) {
                None | Some(Value::Null) => {}
                Some(Value::String(text)) => pairs.push((name.to_owned(), text.clone())),
                Some(Value::Number(n)) if name == "requested_expiry" => {
                    pairs.push((name.to_owned(), n.to_string()));
                }
                Some(Value::Array(items)) if name == "resource" => {
                    for item in items {
                        let text = item
                            .as_str()
                            .ok_or_else(|| refuse(codes::A167323, &[name]))?;
                        pairs.push((name.to_owned(), text.to_owned()));
                    }
                }
                Some(details) if name == "authorization_details" => {
                    pairs.push((name.to_owned(), details.to_string()));
                }
                Some(_) => return Err(refuse(codes::A167323, &[name])),
            }
        }
        Ok(Params::from_pairs(pairs))
    }
}
