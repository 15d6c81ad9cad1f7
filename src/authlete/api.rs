//! The Authlete APIs the gateway calls: paths, metric names and documented actions.

use super::error::FAILURE_ACTIONS;

/// The `action` label of a raw document (discovery, JWKS) Authlete served.
pub const DOCUMENT_SERVED: &str = "OK";

/// One Authlete API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Api {
    BackchannelAuthentication,
    Issue,
    Fail,
    Complete,
    Token,
    Introspection,
    Revocation,
    Userinfo,
    UserinfoIssue,
    ServiceConfiguration,
    Jwks,
}

/// Which timeout governs a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutClass {
    Request,
    Token,
    Complete,
}

impl Api {
    /// Every API, for the metrics exported before the first call.
    pub const ALL: [Api; 11] = [
        Api::BackchannelAuthentication,
        Api::Issue,
        Api::Fail,
        Api::Complete,
        Api::Token,
        Api::Introspection,
        Api::Revocation,
        Api::Userinfo,
        Api::UserinfoIssue,
        Api::ServiceConfiguration,
        Api::Jwks,
    ];

    /// The `api` label of the Authlete metrics.
    pub fn name(self) -> &'static str {
        match self {
            Api::BackchannelAuthentication => "backchannel_authentication",
            Api::Issue => "issue",
            Api::Fail => "fail",
            Api::Complete => "complete",
            Api::Token => "token",
            Api::Introspection => "introspection",
            Api::Revocation => "revocation",
            Api::Userinfo => "userinfo",
            Api::UserinfoIssue => "userinfo_issue",
            Api::ServiceConfiguration => "service_configuration",
            Api::Jwks => "jwks",
        }
    }

    /// The path below `/api/` (v2) or `/api/{service_id}/` (v3).
    pub fn path(self) -> &'static str {
        match self {
            Api::BackchannelAuthentication => "backchannel/authentication",
            Api::Issue => "backchannel/authentication/issue",
            Api::Fail => "backchannel/authentication/fail",
            Api::Complete => "backchannel/authentication/complete",
            Api::Token => "auth/token",
            Api::Introspection => "auth/introspection/standard",
            Api::Revocation => "auth/revocation",
            Api::Userinfo => "auth/userinfo",
            Api::UserinfoIssue => "auth/userinfo/issue",
            Api::ServiceConfiguration => "service/configuration",
            Api::Jwks => "service/jwks/get",
        }
    }

    pub fn timeout_class(self) -> TimeoutClass {
        match self {
            Api::Token => TimeoutClass::Token,
            Api::Complete => TimeoutClass::Complete,
            _ => TimeoutClass::Request,
        }
    }

    /// The actions Authlete documents for this API; anything else is treated as a server error.
    /// Empty for the APIs that answer with raw JSON instead of an envelope.
    pub fn documented_actions(self) -> &'static [&'static str] {
        match self {
            Api::BackchannelAuthentication => &[
                "BAD_REQUEST",
                "UNAUTHORIZED",
                "INTERNAL_SERVER_ERROR",
                "USER_IDENTIFICATION",
            ],
            Api::Issue => &["OK", "INTERNAL_SERVER_ERROR", "INVALID_TICKET"],
            Api::Fail => &["BAD_REQUEST", "FORBIDDEN", "INTERNAL_SERVER_ERROR"],
            Api::Complete => &["NOTIFICATION", "NO_ACTION", "SERVER_ERROR"],
            Api::Token => &[
                "INVALID_CLIENT",
                "INTERNAL_SERVER_ERROR",
                "BAD_REQUEST",
                "OK",
                "PASSWORD",
                "TOKEN_EXCHANGE",
                "JWT_BEARER",
                "ID_TOKEN_REISSUABLE",
                "NATIVE_SSO",
            ],
            Api::Introspection => &["OK", "JWT", "BAD_REQUEST", "INTERNAL_SERVER_ERROR"],
            Api::Revocation => &[
                "OK",
                "BAD_REQUEST",
                "INVALID_CLIENT",
                "INTERNAL_SERVER_ERROR",
            ],
            Api::Userinfo => &[
                "OK",
                "BAD_REQUEST",
                "UNAUTHORIZED",
                "FORBIDDEN",
                "INTERNAL_SERVER_ERROR",
            ],
            Api::UserinfoIssue => &[
                "JSON",
                "JWT",
                "BAD_REQUEST",
                "UNAUTHORIZED",
                "FORBIDDEN",
                "INTERNAL_SERVER_ERROR",
            ],
            Api::ServiceConfiguration | Api::Jwks => &[],
        }
    }

    /// Every `action` label a call to this API can be counted under (SPEC §8): its documented
    /// actions (or `OK` for a raw document), then the failures.
    pub fn metric_actions(self) -> impl Iterator<Item = &'static str> {
        let answered = match self {
            Api::ServiceConfiguration | Api::Jwks => &[DOCUMENT_SERVED],
            _ => self.documented_actions(),
        };
        answered.iter().chain(FAILURE_ACTIONS.iter()).copied()
    }

    /// The documented action equal to `action`, as a `'static` metric label.
    pub fn documented(self, action: &str) -> Option<&'static str> {
        self.documented_actions()
            .iter()
            .copied()
            .find(|known| *known == action)
    }
}
