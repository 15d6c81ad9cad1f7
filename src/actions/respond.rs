//! Building the client's response from an action's disposition, Authlete's `responseContent`
//! and the headers Authlete asks for.

use actix_web::http::header::HeaderValue;
use actix_web::http::StatusCode;
use actix_web::HttpResponse;

use super::{disposition, Disposition};
use crate::authlete::{Action, Api};
use crate::error::{basic_challenge, json_builder, GatewayError};

/// Headers Authlete asks the gateway to add to the client's response.
#[derive(Debug, Clone, Default)]
pub struct ExtraHeaders<'a> {
    pub dpop_nonce: Option<&'a str>,
    pub attestation_challenge: Option<&'a str>,
}

/// Builds the client's response for a disposition that ends the request.
pub fn respond(
    api: Api,
    action: &Action,
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

fn unhandled(api: Api, action: &Action) -> GatewayError {
    log::error!("api={} action {action} has no response mapping", api.name());
    GatewayError::Internal
}

fn missing_content(api: Api, action: &Action) -> GatewayError {
    log::error!(
        "api={} action {action} came without a usable responseContent",
        api.name()
    );
    GatewayError::Internal
}
