//! The reasons Authlete's `/backchannel/authentication/fail` accepts: the gateway's refusals of
//! a backchannel request (SPEC §4), and the directory's answers that name one (§4.1).

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
    /// Every reason, for the metrics exported before the first failure.
    pub const ALL: [FailReason; 9] = [
        FailReason::ExpiredLoginHintToken,
        FailReason::UnknownUserId,
        FailReason::UnauthorizedClient,
        FailReason::MissingUserCode,
        FailReason::InvalidUserCode,
        FailReason::InvalidBindingMessage,
        FailReason::InvalidTarget,
        FailReason::AccessDenied,
        FailReason::ServerError,
    ];

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
