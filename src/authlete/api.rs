//! The Authlete APIs the gateway calls: paths, metric names and timeouts. The actions each API
//! documents are in `crate::actions`.

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

    /// True for the APIs that answer with a raw JSON document rather than an envelope.
    pub fn is_raw_document(self) -> bool {
        matches!(self, Api::ServiceConfiguration | Api::Jwks)
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_api_in_declaration_order() {
        // `AuthleteTarget` keeps one URL per API at index `api as usize`.
        for (index, api) in Api::ALL.iter().enumerate() {
            assert_eq!(*api as usize, index, "{api:?}");
        }
    }
}
