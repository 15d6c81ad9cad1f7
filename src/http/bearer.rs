//! Where a resource request carries its access token (RFC 6750 §2): the `Authorization` header
//! (`Bearer` or `DPoP`, RFC 9449) or, for a POST with a form body, `access_token` in the body.
//! A token in more than one place is refused; the URI query is never looked at, since URLs end
//! up in logs and browser histories.

use actix_web::http::Method;
use actix_web::{web, HttpRequest};

use super::authorization::{authorization, AuthorizationError};
use super::form::{is_form, read_form};
use crate::error::GatewayError;

const TWICE: GatewayError =
    GatewayError::InvalidRequest("the access token was sent in more than one place");

/// The access token of `req`, if it presented one.
pub async fn access_token(
    req: &HttpRequest,
    payload: web::Payload,
    max_body_bytes: usize,
) -> Result<Option<String>, GatewayError> {
    let from_header = header_token(req)?;
    let from_body = if req.method() == Method::POST && is_form(req)? {
        let form = read_form(req, payload, max_body_bytes).await?;
        let mut values = form.all("access_token");
        let first = values.next().map(str::to_owned);
        if values.next().is_some() {
            return Err(TWICE);
        }
        first
    } else {
        None
    };
    match (from_header, from_body) {
        (Some(_), Some(_)) => Err(TWICE),
        (token, None) | (None, token) => Ok(token),
    }
}

/// `Authorization: Bearer <token>` or `DPoP <token>`; other schemes present no token.
fn header_token(req: &HttpRequest) -> Result<Option<String>, GatewayError> {
    let found = authorization(req.headers()).map_err(|e| match e {
        AuthorizationError::Repeated => TWICE,
        AuthorizationError::Malformed => {
            GatewayError::InvalidRequest("malformed Authorization header")
        }
    })?;
    let Some(found) = found.filter(|a| a.is("bearer") || a.is("dpop")) else {
        return Ok(None);
    };
    let token = found.credentials;
    if token.is_empty() || token.contains(' ') {
        return Err(GatewayError::InvalidRequest("malformed access token"));
    }
    Ok(Some(token.to_owned()))
}
