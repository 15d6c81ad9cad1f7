//! The CIBA side path: user identification, soft per-replica state (poll timestamps, pending
//! requests, user-code failures), and the seam to the authentication device.

pub mod background;
pub mod bridge;
pub mod complete;
mod deadline;
pub mod decide;
pub mod decision;
mod delivery;
pub mod device;
pub mod identify;
pub mod lockout;
pub mod pending;
pub mod poll;
pub mod registry;

pub use delivery::DeliveryMode;

/// The reasons `/backchannel/authentication/fail` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailReason {
    ExpiredLoginHintToken,
    UnknownUserId,
    UnauthorizedClient,
    MissingUserCode,
    InvalidUserCode,
    InvalidBindingMessage,
    InvalidTarget,
    AccessDenied,
    ServerError,
}

impl FailReason {
    /// The wire value of `reason`.
    pub fn as_str(self) -> &'static str {
        match self {
            FailReason::ExpiredLoginHintToken => "EXPIRED_LOGIN_HINT_TOKEN",
            FailReason::UnknownUserId => "UNKNOWN_USER_ID",
            FailReason::UnauthorizedClient => "UNAUTHORIZED_CLIENT",
            FailReason::MissingUserCode => "MISSING_USER_CODE",
            FailReason::InvalidUserCode => "INVALID_USER_CODE",
            FailReason::InvalidBindingMessage => "INVALID_BINDING_MESSAGE",
            FailReason::InvalidTarget => "INVALID_TARGET",
            FailReason::AccessDenied => "ACCESS_DENIED",
            FailReason::ServerError => "SERVER_ERROR",
        }
    }

    /// The reason named by a directory's `{"error": e}` answer.
    pub fn from_error_code(code: &str) -> Option<Self> {
        Some(match code {
            "unknown_user_id" => FailReason::UnknownUserId,
            "expired_login_hint_token" => FailReason::ExpiredLoginHintToken,
            "missing_user_code" => FailReason::MissingUserCode,
            "invalid_user_code" => FailReason::InvalidUserCode,
            "access_denied" => FailReason::AccessDenied,
            "unauthorized_client" => FailReason::UnauthorizedClient,
            _ => return None,
        })
    }
}

/// Registered JWT and protocol claims, which Authlete and the gateway set themselves: neither
/// a decision nor a directory may supply them.
const PROTOCOL_CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "azp",
    "at_hash",
    "c_hash",
    "rt_hash",
    "sid",
];

/// True for a registered JWT or protocol claim name, including every `urn:openid:*` claim.
pub fn is_protocol_claim(name: &str) -> bool {
    PROTOCOL_CLAIMS.contains(&name) || name.starts_with("urn:openid:")
}

/// SHA-256 of an `auth_req_id`: the key of per-request soft state, so the id itself is not kept.
pub fn request_key(auth_req_id: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(auth_req_id.as_bytes()).into()
}
