//! The single table that turns each Authlete action into the client's HTTP response
//! (SPEC §3.1–§3.4), one exhaustive match per API: a new `Action` does not compile until every
//! API says what it means there. An action an API does not document has no disposition, and
//! the call fails as a server error (SPEC §3).

mod respond;

pub use respond::{respond, ExtraHeaders};

use crate::authlete::{Action as A, Api};

/// What an action means for the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// `responseContent` as the JSON body, with this status.
    Json(u16),
    /// Like `Json`, plus `WWW-Authenticate: Basic realm=...`.
    JsonChallenge(u16),
    /// 200 with the given media type, `responseContent` as the body.
    Typed(&'static str),
    /// 200, and an empty body without Content-Type when `responseContent` is null.
    OptionalJson,
    /// `responseContent` is a `WWW-Authenticate` value; empty body.
    Challenge(u16),
    /// A grant the gateway does not serve: 400 `unsupported_grant_type`.
    UnsupportedGrant,
    /// The gateway continues (user identification, userinfo claims, `/complete`'s outcomes).
    Continue,
}

use Disposition as D;

/// The disposition of `action` from `api`; `None` for an action `api` does not document.
pub fn disposition(api: Api, action: &A) -> Option<Disposition> {
    match api {
        Api::BackchannelAuthentication => backchannel_authentication(action),
        Api::Issue => issue(action),
        Api::Fail => fail(action),
        Api::Complete => complete(action),
        Api::Token => token(action),
        Api::Introspection => introspection(action),
        Api::Revocation => revocation(action),
        Api::Userinfo => userinfo(action),
        Api::UserinfoIssue => userinfo_issue(action),
        // Raw documents, not envelopes: no action at all.
        Api::ServiceConfiguration | Api::Jwks => None,
    }
}

/// True when `api` documents `action`.
pub fn documented(api: Api, action: &A) -> bool {
    disposition(api, action).is_some()
}

fn backchannel_authentication(action: &A) -> Option<Disposition> {
    Some(match action {
        A::BadRequest => D::Json(400),
        A::Unauthorized => D::JsonChallenge(401),
        A::InternalServerError => D::Json(500),
        A::UserIdentification => D::Continue,
        A::Ok | A::Forbidden | A::InvalidTicket | A::InvalidClient | A::Password => return None,
        A::TokenExchange | A::JwtBearer | A::IdTokenReissuable | A::NativeSso => return None,
        A::Jwt | A::Json | A::Notification | A::NoAction | A::ServerError => return None,
        A::Unknown(_) => return None,
    })
}

fn issue(action: &A) -> Option<Disposition> {
    Some(match action {
        A::Ok => D::Json(200),
        A::InvalidTicket | A::InternalServerError => D::Json(500),
        A::BadRequest | A::Unauthorized | A::Forbidden | A::UserIdentification => return None,
        A::InvalidClient | A::Password | A::TokenExchange | A::JwtBearer => return None,
        A::IdTokenReissuable | A::NativeSso | A::Jwt | A::Json | A::Notification => return None,
        A::NoAction | A::ServerError | A::Unknown(_) => return None,
    })
}

fn fail(action: &A) -> Option<Disposition> {
    Some(match action {
        A::BadRequest => D::Json(400),
        A::Forbidden => D::Json(403),
        A::InternalServerError => D::Json(500),
        A::Ok | A::Unauthorized | A::UserIdentification | A::InvalidTicket => return None,
        A::InvalidClient | A::Password | A::TokenExchange | A::JwtBearer => return None,
        A::IdTokenReissuable | A::NativeSso | A::Jwt | A::Json | A::Notification => return None,
        A::NoAction | A::ServerError | A::Unknown(_) => return None,
    })
}

/// `/complete`'s outcomes are read by `ciba::complete`; the client never sees them.
fn complete(action: &A) -> Option<Disposition> {
    Some(match action {
        A::Notification | A::NoAction | A::ServerError => D::Continue,
        A::Ok | A::BadRequest | A::Unauthorized | A::Forbidden => return None,
        A::InternalServerError | A::UserIdentification | A::InvalidTicket => return None,
        A::InvalidClient | A::Password | A::TokenExchange | A::JwtBearer => return None,
        A::IdTokenReissuable | A::NativeSso | A::Jwt | A::Json | A::Unknown(_) => return None,
    })
}

fn token(action: &A) -> Option<Disposition> {
    Some(match action {
        A::InvalidClient => D::JsonChallenge(401),
        A::BadRequest => D::Json(400),
        A::InternalServerError => D::Json(500),
        A::Ok | A::IdTokenReissuable => D::Json(200),
        A::Password | A::TokenExchange | A::JwtBearer | A::NativeSso => D::UnsupportedGrant,
        A::Unauthorized | A::Forbidden | A::UserIdentification | A::InvalidTicket => return None,
        A::Jwt | A::Json | A::Notification | A::NoAction | A::ServerError => return None,
        A::Unknown(_) => return None,
    })
}

fn introspection(action: &A) -> Option<Disposition> {
    Some(match action {
        A::Ok => D::Json(200),
        A::Jwt => D::Typed("application/token-introspection+jwt"),
        A::BadRequest => D::Json(400),
        A::InternalServerError => D::Json(500),
        A::Unauthorized | A::Forbidden | A::UserIdentification | A::InvalidTicket => return None,
        A::InvalidClient | A::Password | A::TokenExchange | A::JwtBearer => return None,
        A::IdTokenReissuable | A::NativeSso | A::Json | A::Notification => return None,
        A::NoAction | A::ServerError | A::Unknown(_) => return None,
    })
}

fn revocation(action: &A) -> Option<Disposition> {
    Some(match action {
        A::Ok => D::OptionalJson,
        A::BadRequest => D::Json(400),
        A::InvalidClient => D::JsonChallenge(401),
        A::InternalServerError => D::Json(500),
        A::Unauthorized | A::Forbidden | A::UserIdentification | A::InvalidTicket => return None,
        A::Password | A::TokenExchange | A::JwtBearer | A::IdTokenReissuable => return None,
        A::NativeSso | A::Jwt | A::Json | A::Notification | A::NoAction => return None,
        A::ServerError | A::Unknown(_) => return None,
    })
}

/// `OK` goes on to the directory's claims and `/auth/userinfo/issue`.
fn userinfo(action: &A) -> Option<Disposition> {
    match action {
        A::Ok => Some(D::Continue),
        other => userinfo_refusal(other),
    }
}

fn userinfo_issue(action: &A) -> Option<Disposition> {
    match action {
        A::Json => Some(D::Json(200)),
        A::Jwt => Some(D::Typed("application/jwt")),
        other => userinfo_refusal(other),
    }
}

/// The refusals both userinfo APIs share: Authlete's challenge, no body (RFC 6750 §3).
fn userinfo_refusal(action: &A) -> Option<Disposition> {
    Some(match action {
        A::BadRequest => D::Challenge(400),
        A::Unauthorized => D::Challenge(401),
        A::Forbidden => D::Challenge(403),
        A::InternalServerError => D::Challenge(500),
        A::Ok | A::Json | A::Jwt | A::UserIdentification | A::InvalidTicket => return None,
        A::InvalidClient | A::Password | A::TokenExchange | A::JwtBearer => return None,
        A::IdTokenReissuable | A::NativeSso | A::Notification | A::NoAction => return None,
        A::ServerError | A::Unknown(_) => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The actions Authlete documents for each API.
    const DOCUMENTED: &[(Api, &[&str])] = &[
        (
            Api::BackchannelAuthentication,
            &[
                "BAD_REQUEST",
                "UNAUTHORIZED",
                "INTERNAL_SERVER_ERROR",
                "USER_IDENTIFICATION",
            ],
        ),
        (
            Api::Issue,
            &["OK", "INTERNAL_SERVER_ERROR", "INVALID_TICKET"],
        ),
        (
            Api::Fail,
            &["BAD_REQUEST", "FORBIDDEN", "INTERNAL_SERVER_ERROR"],
        ),
        (
            Api::Complete,
            &["NOTIFICATION", "NO_ACTION", "SERVER_ERROR"],
        ),
        (
            Api::Token,
            &[
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
        ),
        (
            Api::Introspection,
            &["OK", "JWT", "BAD_REQUEST", "INTERNAL_SERVER_ERROR"],
        ),
        (
            Api::Revocation,
            &[
                "OK",
                "BAD_REQUEST",
                "INVALID_CLIENT",
                "INTERNAL_SERVER_ERROR",
            ],
        ),
        (
            Api::Userinfo,
            &[
                "OK",
                "BAD_REQUEST",
                "UNAUTHORIZED",
                "FORBIDDEN",
                "INTERNAL_SERVER_ERROR",
            ],
        ),
        (
            Api::UserinfoIssue,
            &[
                "JSON",
                "JWT",
                "BAD_REQUEST",
                "UNAUTHORIZED",
                "FORBIDDEN",
                "INTERNAL_SERVER_ERROR",
            ],
        ),
        (Api::ServiceConfiguration, &[]),
        (Api::Jwks, &[]),
    ];

    #[test]
    fn every_documented_action_has_a_disposition_or_is_handled_elsewhere() {
        for (api, documented) in DOCUMENTED {
            for name in A::NAMES {
                let action = A::from_name(name);
                let expected = documented.contains(name);
                assert_eq!(
                    disposition(*api, &action).is_some(),
                    expected,
                    "{api:?} {name}"
                );
            }
            assert_eq!(disposition(*api, &A::Unknown("NEW".into())), None);
        }
    }
}
