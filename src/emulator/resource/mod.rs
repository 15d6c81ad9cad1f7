//! The APIs around issued tokens: introspection (Authlete-style and RFC 7662), revocation
//! (RFC 7009) and userinfo.

pub(crate) mod introspection;
pub(crate) mod revocation;
pub(crate) mod userinfo;

use super::codes::{self, Code};
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
