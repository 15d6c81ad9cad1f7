//! The gateway's own errors and their one mapping to HTTP.
//!
//! Clients get a stable OAuth-shaped body; the cause was logged where the error was classified.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, HttpResponseBuilder, ResponseError};

use crate::authlete::UpstreamError;

/// Every error answer the gateway produces itself (Authlete's own error answers are passed
/// through by `actions`, not through this type).
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// Authlete failed; `retry_after_secs` is already capped.
    #[error("{error}")]
    Upstream {
        error: UpstreamError,
        retry_after_secs: u64,
    },
    /// A malformed request, refused before calling Authlete.
    #[error("invalid request: {0}")]
    InvalidRequest(&'static str),
    /// A body over `server.max_body_bytes`.
    #[error("request body too large")]
    PayloadTooLarge,
    /// A body not received within `http::form::BODY_READ_TIMEOUT`.
    #[error("request body not received in time")]
    BodyTimeout,
    /// Malformed client credentials; `challenge` is the `WWW-Authenticate` value.
    #[error("invalid client credentials: {reason}")]
    InvalidClient {
        reason: &'static str,
        challenge: String,
    },
    /// A missing token at a resource endpoint (userinfo); only the challenge, no body.
    #[error("no access token")]
    Unauthenticated { challenge: String },
    #[error("invalid DPoP proof")]
    InvalidDpopProof,
    #[error("method not allowed")]
    MethodNotAllowed { allow: &'static str },
    #[error("not found")]
    NotFound,
    /// A failure inside the gateway; the cause was logged.
    #[error("internal error")]
    Internal,
}

/// A JSON response with the no-store headers of SPEC §3.
pub fn json_builder(status: StatusCode) -> HttpResponseBuilder {
    let mut builder = HttpResponse::build(status);
    builder
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .insert_header((header::CONTENT_TYPE, "application/json"));
    builder
}

fn oauth_body(error: &str, description: Option<&str>) -> String {
    let mut body = serde_json::Map::new();
    body.insert("error".into(), error.into());
    if let Some(description) = description {
        body.insert("error_description".into(), description.into());
    }
    serde_json::Value::Object(body).to_string()
}

impl ResponseError for GatewayError {
    fn status_code(&self) -> StatusCode {
        match self {
            GatewayError::Upstream { error, .. } if error.is_transient() => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            GatewayError::Upstream { .. } | GatewayError::Internal => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            GatewayError::InvalidRequest(_) | GatewayError::InvalidDpopProof => {
                StatusCode::BAD_REQUEST
            }
            GatewayError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            GatewayError::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            GatewayError::InvalidClient { .. } | GatewayError::Unauthenticated { .. } => {
                StatusCode::UNAUTHORIZED
            }
            GatewayError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            GatewayError::NotFound => StatusCode::NOT_FOUND,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let mut builder = json_builder(status);
        let body = match self {
            GatewayError::Upstream {
                retry_after_secs, ..
            } if status == StatusCode::SERVICE_UNAVAILABLE => {
                builder.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
                oauth_body("temporarily_unavailable", None)
            }
            GatewayError::Upstream { .. } | GatewayError::Internal => {
                oauth_body("server_error", None)
            }
            GatewayError::InvalidRequest(description) => {
                oauth_body("invalid_request", Some(description))
            }
            GatewayError::PayloadTooLarge => {
                oauth_body("invalid_request", Some("request body too large"))
            }
            GatewayError::BodyTimeout => {
                oauth_body("invalid_request", Some("request body not received in time"))
            }
            GatewayError::InvalidClient { reason, challenge } => {
                insert_challenge(&mut builder, challenge);
                oauth_body("invalid_client", Some(reason))
            }
            GatewayError::Unauthenticated { challenge } => {
                insert_challenge(&mut builder, challenge);
                // RFC 6750 §3: the challenge is the whole answer; an empty body has no type.
                let mut response = builder.finish();
                response.headers_mut().remove(header::CONTENT_TYPE);
                return response;
            }
            GatewayError::InvalidDpopProof => oauth_body("invalid_dpop_proof", None),
            GatewayError::MethodNotAllowed { allow } => {
                builder.insert_header((header::ALLOW, *allow));
                oauth_body("invalid_request", Some("method not allowed"))
            }
            GatewayError::NotFound => oauth_body("not_found", None),
        };
        builder.body(body)
    }
}

fn insert_challenge(builder: &mut HttpResponseBuilder, challenge: &str) {
    if let Ok(value) = HeaderValue::from_str(challenge) {
        builder.insert_header((header::WWW_AUTHENTICATE, value));
    }
}

/// The `WWW-Authenticate` challenge for client authentication failures.
pub fn basic_challenge(realm: &str) -> String {
    format!("Basic realm=\"{realm}\"")
}
