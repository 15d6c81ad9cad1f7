//! The gateway's own errors and their one mapping to HTTP, through the table of wire errors
//! (`wire`) that every handler answers with.
//!
//! Clients get a stable OAuth-shaped body; the cause was logged where the error was classified.

mod wire;

pub use wire::{Code, WireError};

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, HttpResponseBuilder, ResponseError};

use crate::authlete::{AuthleteFailure, UpstreamError};

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

impl GatewayError {
    /// The answer to the client.
    pub fn wire(&self) -> WireError {
        match self {
            GatewayError::Upstream {
                error,
                retry_after_secs,
            } if error.is_transient() => {
                WireError::new(Code::TemporarilyUnavailable).retry_after(*retry_after_secs)
            }
            GatewayError::Upstream { .. } | GatewayError::Internal => {
                WireError::new(Code::ServerError)
            }
            GatewayError::InvalidRequest(description) => {
                WireError::new(Code::InvalidRequest).description(*description)
            }
            GatewayError::PayloadTooLarge => WireError::new(Code::PayloadTooLarge),
            GatewayError::BodyTimeout => WireError::new(Code::BodyTimeout),
            GatewayError::InvalidClient { reason, challenge } => {
                WireError::new(Code::InvalidClient)
                    .description(*reason)
                    .challenge(challenge)
            }
            GatewayError::Unauthenticated { challenge } => {
                WireError::new(Code::Unauthenticated).challenge(challenge)
            }
            GatewayError::InvalidDpopProof => WireError::new(Code::InvalidDpopProof),
            GatewayError::MethodNotAllowed { allow } => {
                WireError::new(Code::MethodNotAllowed).allow(allow)
            }
            GatewayError::NotFound => WireError::new(Code::NotFound),
        }
    }
}

impl From<AuthleteFailure> for GatewayError {
    fn from(failure: AuthleteFailure) -> Self {
        GatewayError::Upstream {
            error: failure.error,
            retry_after_secs: failure.retry_after_secs,
        }
    }
}

impl ResponseError for GatewayError {
    fn status_code(&self) -> StatusCode {
        self.wire().status()
    }

    fn error_response(&self) -> HttpResponse {
        self.wire().response()
    }
}

/// A JSON response with the no-store headers of SPEC §3.
pub fn json_builder(status: StatusCode) -> HttpResponseBuilder {
    let mut builder = HttpResponse::build(status);
    builder
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")))
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        ));
    builder
}

/// A `json_builder` response without a body, so without a Content-Type either.
pub fn no_body(mut builder: HttpResponseBuilder) -> HttpResponse {
    let mut response = builder.finish();
    response.headers_mut().remove(header::CONTENT_TYPE);
    response
}

/// The `WWW-Authenticate` challenge for client authentication failures.
pub fn basic_challenge(realm: &str) -> String {
    format!("Basic realm=\"{realm}\"")
}
