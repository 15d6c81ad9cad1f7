//! The Authlete APIs the gateway calls: paths, metric names and timeouts. The actions each API
//! documents are in `crate::actions`.

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
}
