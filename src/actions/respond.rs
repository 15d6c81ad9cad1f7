//! Building the client's response from an action's disposition, Authlete's `responseContent`
//! and the headers Authlete asks for.

use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;

use super::{disposition, Disposition};
use crate::authlete::{Action, Api};
use crate::error::{basic_challenge, json_builder, no_body, Code, GatewayError, WireError};

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
    let required = || content.ok_or_else(|| missing_content(api, action));
    let mut response = match disposition {
        Disposition::Json(code) => json_builder(status(code)?).body(required()?.to_owned()),
        Disposition::JsonChallenge(code) => json_builder(status(code)?)
            .insert_header((header::WWW_AUTHENTICATE, basic_challenge(realm)))
            .body(required()?.to_owned()),
        Disposition::Typed(media) => json_builder(StatusCode::OK)
            .insert_header((header::CONTENT_TYPE, media))
            .body(required()?.to_owned()),
        Disposition::OptionalJson => match content {
            Some(body) => json_builder(StatusCode::OK).body(body.to_owned()),
            None => no_body(json_builder(StatusCode::OK)),
        },
        Disposition::Challenge(code) => {
            let challenge = HeaderValue::from_str(required()?);
            let challenge = challenge.map_err(|_| missing_content(api, action))?;
            let mut builder = json_builder(status(code)?);
            builder.insert_header((header::WWW_AUTHENTICATE, challenge));
            no_body(builder)
        }
        Disposition::UnsupportedGrant => WireError::new(Code::UnsupportedGrantType).response(),
        Disposition::Continue => return Err(unhandled(api, action)),
    };
    add_extra(response.headers_mut(), extra);
    Ok(response)
}

fn add_extra(headers: &mut HeaderMap, extra: &ExtraHeaders<'_>) {
    let wanted = [
        ("dpop-nonce", extra.dpop_nonce),
        (
            "oauth-client-attestation-challenge",
            extra.attestation_challenge,
        ),
    ];
    for (name, value) in wanted {
        if let Some(value) = value.and_then(|v| HeaderValue::from_str(v).ok()) {
            headers.insert(HeaderName::from_static(name), value);
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
