//! The APIs around issued tokens: introspection (Authlete-style and RFC 7662), revocation
//! (RFC 7009) and userinfo.

pub(crate) mod introspection;
pub(crate) mod revocation;
pub(crate) mod userinfo;

use super::codes::{self, Code};
use super::dpop::{self, Expected};
use super::envelope::Envelope;
use super::params::Body;
use super::state::Emulator;
use super::store::TokenRecord;

/// Why an access token cannot be used.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Unusable {
    Missing,
    Unknown,
    Expired(Refresh),
}

/// What an expired access token's refresh token still allows.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Refresh {
    None,
    Expired,
    Usable,
}

/// The API asking: introspection and userinfo have codes of their own for the same condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    Introspection,
    Userinfo,
}

impl Unusable {
    /// The action, the Bearer `error` and the result code for the challenge.
    pub fn describe(self, api: Api) -> (&'static str, &'static str, Code) {
        let userinfo = api == Api::Userinfo;
        let code = match self {
            Self::Missing if userinfo => codes::A092301,
            Self::Missing => codes::A057301,
            Self::Unknown if userinfo => codes::A092302,
            Self::Unknown => codes::A057302,
            Self::Expired(Refresh::None) if userinfo => codes::A093301,
            Self::Expired(Refresh::Expired) if userinfo => codes::A093302,
            Self::Expired(Refresh::Usable) if userinfo => codes::A093303,
            Self::Expired(Refresh::None) => codes::A065303,
            Self::Expired(Refresh::Expired) => codes::A065302,
            Self::Expired(Refresh::Usable) => codes::A065301,
        };
        match self {
            Self::Missing => ("BAD_REQUEST", "invalid_request", code),
            _ => ("UNAUTHORIZED", "invalid_token", code),
        }
    }
}

/// A DPoP-bound token is usable only with a proof (`dpop`, `htm`, `htu`) made with its key and
/// bound to it (`ath`), RFC 9449 §7. A proof without a bound token is not checked.
pub(crate) fn check_binding(
    state: &Emulator,
    body: &Body,
    record: &TokenRecord,
    api: Api,
) -> Result<(), Envelope> {
    let Some(bound_to) = &record.jkt else {
        return Ok(());
    };
    let (missing, mismatch, codes) = match api {
        Api::Userinfo => (codes::A089311, codes::A089312, &dpop::USERINFO),
        Api::Introspection => (codes::A065308, codes::A065309, &dpop::INTROSPECTION),
    };
    let refuse =
        |code, args: &[&str]| Envelope::dpop(code, args, "UNAUTHORIZED", "invalid_dpop_proof");
    let Some(proof) = body.string("dpop") else {
        return Err(Envelope::dpop(
            missing,
            &[],
            "UNAUTHORIZED",
            "invalid_token",
        ));
    };
    // Userinfo defaults to the service's endpoint and GET; a resource server names its own.
    let (htm, htu) = match api {
        Api::Userinfo => (
            body.string("htm").or_else(|| Some("GET".into())),
            body.string("htu")
                .or_else(|| Some(state.endpoint("/userinfo"))),
        ),
        Api::Introspection => (body.string("htm"), body.string("htu")),
    };
    let (Some(htm), Some(htu)) = (htm, htu) else {
        return Err(refuse(
            codes.invalid,
            &["the 'htm' and 'htu' request parameters are required"],
        ));
    };
    let expected = Expected {
        htm: &htm,
        htu: &htu,
        access_token: Some(&record.access_token),
    };
    match dpop::verify(state, &proof, &expected) {
        Ok(jkt) if jkt == *bound_to => Ok(()),
        Ok(_) => Err(refuse(mismatch, &[])),
        Err(why) => {
            let (code, args) = why.code(codes);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            Err(refuse(code, &args))
        }
    }
}

/// The live access token `token`, if any.
pub(crate) fn usable(state: &Emulator, token: Option<&str>) -> Result<TokenRecord, Unusable> {
    let token = token.ok_or(Unusable::Missing)?;
    let record = state
        .store()
        .access(token)
        .cloned()
        .ok_or(Unusable::Unknown)?;
    let now = state.now_ms();
    if now >= record.access_expires_ms {
        let refresh = match record.refresh_token {
            None => Refresh::None,
            Some(_) if now >= record.refresh_expires_ms => Refresh::Expired,
            Some(_) => Refresh::Usable,
        };
        return Err(Unusable::Expired(refresh));
    }
    Ok(record)
}
