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
    Expired,
}

impl Unusable {
    /// The action, the Bearer `error` and the result code for the challenge.
    pub fn describe(self) -> (&'static str, &'static str, Code) {
        match self {
            Self::Missing => ("BAD_REQUEST", "invalid_request", codes::A056201),
            Self::Unknown => ("UNAUTHORIZED", "invalid_token", codes::A056301),
            Self::Expired => ("UNAUTHORIZED", "invalid_token", codes::A056302),
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
    if state.now_ms() >= record.access_expires_ms {
        return Err(Unusable::Expired);
    }
    Ok(record)
}
