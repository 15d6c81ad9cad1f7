//! The single table that turns each Authlete action into the client's HTTP response
//! (SPEC §3.1–§3.4).

use actix_web::http::header::HeaderValue;
use actix_web::http::StatusCode;
use actix_web::HttpResponse;

use crate::authlete::Api;
use crate::error::{basic_challenge, json_builder, GatewayError};

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
    /// The gateway continues (user identification, userinfo claims).
    Continue,
}

/// The disposition of `action` from `api`; `None` for an action the gateway does not handle.
pub fn disposition(api: Api, action: &str) -> Option<Disposition> {
    use Disposition::*;
    Some(match (api, action) {
        (Api::BackchannelAuthentication, "BAD_REQUEST") => Json(400),
        (Api::BackchannelAuthentication, "UNAUTHORIZED") => JsonChallenge(401),
        (Api::BackchannelAuthentication, "INTERNAL_SERVER_ERROR") => Json(500),
        (Api::BackchannelAuthentication, "USER_IDENTIFICATION") => Continue,
        (Api::Issue, "OK") => Json(200),
        (Api::Issue, "INVALID_TICKET" | "INTERNAL_SERVER_ERROR") => Json(500),
        (Api::Fail, "BAD_REQUEST") => Json(400),
        (Api::Fail, "FORBIDDEN") => Json(403),
        (Api::Fail, "INTERNAL_SERVER_ERROR") => Json(500),
        (Api::Token, "INVALID_CLIENT") => JsonChallenge(401),
        (Api::Token, "BAD_REQUEST") => Json(400),
        (Api::Token, "INTERNAL_SERVER_ERROR") => Json(500),
        (Api::Token, "OK" | "ID_TOKEN_REISSUABLE") => Json(200),
        (Api::Token, "PASSWORD" | "TOKEN_EXCHANGE" | "JWT_BEARER" | "NATIVE_SSO") => {
            UnsupportedGrant
        }
        (Api::Introspection, "OK") => Json(200),
        (Api::Introspection, "JWT") => Typed("application/token-introspection+jwt"),
        (Api::Introspection, "BAD_REQUEST") => Json(400),
        (Api::Introspection, "INTERNAL_SERVER_ERROR") => Json(500),
        (Api::Revocation, "OK") => OptionalJson,
        (Api::Revocation, "BAD_REQUEST") => Json(400),
        (Api::Revocation, "INVALID_CLIENT") => JsonChallenge(401),
        (Api::Revocation, "INTERNAL_SERVER_ERROR") => Json(500),
        (Api::Userinfo, "OK") => Continue,
        (Api::Userinfo | Api::UserinfoIssue, "BAD_REQUEST") => Challenge(400),
        (Api::Userinfo | Api::UserinfoIssue, "UNAUTHORIZED") => Challenge(401),
        (Api::Userinfo | Api::UserinfoIssue, "FORBIDDEN") => Challenge(403),
        (Api::Userinfo | Api::UserinfoIssue, "INTERNAL_SERVER_ERROR") => Challenge(500),
        (Api::UserinfoIssue, "JSON") => Json(200),
        (Api::UserinfoIssue, "JWT") => Typed("application/jwt"),
        _ => return None,
    })
}

/// Headers Authlete asks the gateway to add to the client's response.
#[derive(Debug, Clone, Default)]
pub struct ExtraHeaders<'a> {
    pub dpop_nonce: Option<&'a str>,
    pub attestation_challenge: Option<&'a str>,
}

/// Builds the client's response for a disposition that ends the request.
pub fn respond(
    api: Api,
    action: &str,
    content: Option<&str>,
    extra: &ExtraHeaders<'_>,
    realm: &str,
) -> Result<HttpResponse, GatewayError> {
    let disposition = disposition(api, action).ok_or_else(|| unhandled(api, action))?;
    let status = |code: u16| StatusCode::from_u16(code).map_err(|_| GatewayError::Internal);
    let mut builder = match disposition {
        Disposition::Json(code) | Disposition::JsonChallenge(code) => {
            let mut builder = json_builder(status(code)?);
            if matches!(disposition, Disposition::JsonChallenge(_)) {
                builder.insert_header(("WWW-Authenticate", basic_challenge(realm)));
            }
            builder
        }
        Disposition::Typed(media) => {
            let mut builder = json_builder(StatusCode::OK);
            builder.insert_header(("Content-Type", media));
            builder
        }
        Disposition::OptionalJson => json_builder(StatusCode::OK),
        Disposition::Challenge(code) => {
            let mut builder = json_builder(status(code)?);
            let challenge = content.ok_or_else(|| missing_content(api, action))?;
            let value =
                HeaderValue::from_str(challenge).map_err(|_| missing_content(api, action))?;
            builder.insert_header(("WWW-Authenticate", value));
            add_extra(&mut builder, extra);
            let mut response = builder.finish();
            response.headers_mut().remove("content-type");
            return Ok(response);
        }
        Disposition::UnsupportedGrant => {
            let mut builder = json_builder(StatusCode::BAD_REQUEST);
            add_extra(&mut builder, extra);
            return Ok(builder.body(r#"{"error":"unsupported_grant_type"}"#));
        }
        Disposition::Continue => return Err(unhandled(api, action)),
    };
    add_extra(&mut builder, extra);
    match content {
        Some(body) => Ok(builder.body(body.to_owned())),
        None if disposition == Disposition::OptionalJson => {
            let mut response = builder.finish();
            response.headers_mut().remove("content-type");
            Ok(response)
        }
        None => Err(missing_content(api, action)),
    }
}

fn add_extra(builder: &mut actix_web::HttpResponseBuilder, extra: &ExtraHeaders<'_>) {
    let headers = [
        ("DPoP-Nonce", extra.dpop_nonce),
        (
            "OAuth-Client-Attestation-Challenge",
            extra.attestation_challenge,
        ),
    ];
    for (name, value) in headers {
        if let Some(value) = value.and_then(|v| HeaderValue::from_str(v).ok()) {
            builder.insert_header((name, value));
        }
    }
}

fn unhandled(api: Api, action: &str) -> GatewayError {
    log::error!("api={} action {action} has no response mapping", api.name());
    GatewayError::Internal
}

fn missing_content(api: Api, action: &str) -> GatewayError {
    log::error!(
        "api={} action {action} came without a usable responseContent",
        api.name()
    );
    GatewayError::Internal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_action_has_a_disposition_or_is_handled_elsewhere() {
        for api in [
            Api::BackchannelAuthentication,
            Api::Issue,
            Api::Fail,
            Api::Token,
            Api::Introspection,
            Api::Revocation,
            Api::Userinfo,
            Api::UserinfoIssue,
        ] {
            for action in api.documented_actions() {
                assert!(disposition(api, action).is_some(), "{api:?} {action}");
            }
        }
    }
}
