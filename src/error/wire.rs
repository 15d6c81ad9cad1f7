//! The one table of the error answers the gateway writes itself, in the manner of meilisearch's
//! `make_error_codes!`: each code's HTTP status, its OAuth `error` and any fixed
//! `error_description`. `WireError` renders a code with the headers that go with it
//! (`Retry-After`, `WWW-Authenticate`, `Allow`) and the no-store headers of SPEC §3. Authlete's
//! own error answers are its `responseContent`, passed through by `actions`.

use std::borrow::Cow;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;

use super::{json_builder, no_body};

macro_rules! error_codes {
    (@some) => { None };
    (@some $text:literal) => { Some($text) };
    ($(
        $(#[$doc:meta])*
        $code:ident => $status:ident $(, $error:literal $(, $description:literal)?)?;
    )*) => {
        /// Every error answer the gateway writes itself.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Code {
            $($(#[$doc])* $code,)*
        }

        impl Code {
            pub fn status(self) -> StatusCode {
                match self {
                    $(Code::$code => StatusCode::$status,)*
                }
            }

            /// The OAuth `error`; `None` for an answer that is only a challenge.
            pub fn error(self) -> Option<&'static str> {
                match self {
                    $(Code::$code => error_codes!(@some $($error)?),)*
                }
            }

            /// The `error_description` every answer with this code carries, if any.
            pub fn description(self) -> Option<&'static str> {
                match self {
                    $(Code::$code => error_codes!(@some $($($description)?)?),)*
                }
            }
        }
    };
}

error_codes! {
    /// A malformed request; the description says what, where it helps.
    InvalidRequest => BAD_REQUEST, "invalid_request";
    /// A method the resource does not serve; with `Allow`.
    MethodNotAllowed => METHOD_NOT_ALLOWED, "invalid_request", "method not allowed";
    /// A body not received within `http::form::BODY_READ_TIMEOUT`.
    BodyTimeout => REQUEST_TIMEOUT, "invalid_request", "request body not received in time";
    /// A body over `server.max_body_bytes`.
    PayloadTooLarge => PAYLOAD_TOO_LARGE, "invalid_request", "request body too large";
    /// A state-changing admin request whose body is not JSON.
    UnsupportedMediaType => UNSUPPORTED_MEDIA_TYPE, "invalid_request";
    InvalidDpopProof => BAD_REQUEST, "invalid_dpop_proof";
    /// A CIBA poll before its interval has passed (SPEC §3.2).
    SlowDown => BAD_REQUEST, "slow_down";
    /// A grant Authlete knows but the gateway does not serve.
    UnsupportedGrantType => BAD_REQUEST, "unsupported_grant_type";
    /// Malformed client credentials, or an unknown introspection caller; with a `Basic`
    /// challenge.
    InvalidClient => UNAUTHORIZED, "invalid_client";
    /// A bad decision token or console token; with a `Bearer` challenge.
    InvalidToken => UNAUTHORIZED, "invalid_token";
    /// No access token at a resource endpoint: the challenge is the whole answer, without a
    /// body or a Content-Type (RFC 6750 §3).
    Unauthenticated => UNAUTHORIZED;
    NotFound => NOT_FOUND, "not_found";
    /// A decision for a request someone already decided (SPEC §5.3).
    AlreadyDecided => CONFLICT, "already_decided";
    /// A decision for a request past its expiry.
    Expired => GONE, "expired";
    /// An admin route reached under a host it does not answer to (SPEC §2).
    MisdirectedRequest => MISDIRECTED_REQUEST, "misdirected_request";
    /// A failure inside the gateway, or Authlete's answer or our configuration of it is
    /// broken; the cause was logged.
    ServerError => INTERNAL_SERVER_ERROR, "server_error";
    /// `/complete` answered a `SERVER_ERROR` the gateway has no meaning for.
    UpstreamError => BAD_GATEWAY, "upstream_error";
    /// Authlete, the directory or a queue cannot take the request now; with `Retry-After`.
    TemporarilyUnavailable => SERVICE_UNAVAILABLE, "temporarily_unavailable";
    /// `/complete` timed out after it was sent: applied or not, nobody knows.
    OutcomeUnknown => GATEWAY_TIMEOUT, "outcome_unknown";
}

/// One error answer: a code, an optional description, and the header that goes with it.
#[derive(Debug, Clone)]
pub struct WireError {
    code: Code,
    description: Option<Cow<'static, str>>,
    retry_after_secs: Option<u64>,
    challenge: Option<HeaderValue>,
    allow: Option<&'static str>,
}

impl WireError {
    pub fn new(code: Code) -> Self {
        Self {
            code,
            description: None,
            retry_after_secs: None,
            challenge: None,
            allow: None,
        }
    }

    /// `error_description`, for a code without a fixed one.
    pub fn description(mut self, text: impl Into<Cow<'static, str>>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// `Retry-After`, in seconds.
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs);
        self
    }

    /// `WWW-Authenticate`. The gateway builds every challenge itself; one that is not a valid
    /// header value (a realm with a line break) is left out rather than failing the answer.
    pub fn challenge(mut self, challenge: &str) -> Self {
        self.challenge = HeaderValue::from_str(challenge).ok();
        self
    }

    /// `Allow`: the methods the resource serves.
    pub fn allow(mut self, methods: &'static str) -> Self {
        self.allow = Some(methods);
        self
    }

    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    /// `{"error": code, "error_description"?: ...}`; `None` for a challenge-only answer.
    fn body(&self) -> Option<String> {
        let mut body = serde_json::Map::new();
        body.insert("error".into(), self.code.error()?.into());
        let description = self.description.as_deref().or(self.code.description());
        if let Some(description) = description {
            body.insert("error_description".into(), description.into());
        }
        Some(serde_json::Value::Object(body).to_string())
    }

    pub fn response(&self) -> HttpResponse {
        let mut builder = json_builder(self.status());
        if let Some(secs) = self.retry_after_secs {
            builder.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if let Some(challenge) = &self.challenge {
            builder.insert_header((header::WWW_AUTHENTICATE, challenge.clone()));
        }
        if let Some(allow) = self.allow {
            builder.insert_header((header::ALLOW, allow));
        }
        match self.body() {
            Some(body) => builder.body(body),
            None => no_body(builder),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(error: &WireError) -> String {
        error.body().unwrap_or_default()
    }

    #[test]
    fn bodies_carry_the_code_and_a_fixed_or_given_description() {
        assert_eq!(
            body(&WireError::new(Code::NotFound)),
            r#"{"error":"not_found"}"#
        );
        assert_eq!(
            body(&WireError::new(Code::MethodNotAllowed)),
            r#"{"error":"invalid_request","error_description":"method not allowed"}"#
        );
        assert_eq!(
            body(&WireError::new(Code::InvalidRequest).description("bad \"x\"")),
            r#"{"error":"invalid_request","error_description":"bad \"x\""}"#
        );
        assert_eq!(WireError::new(Code::Unauthenticated).body(), None);
    }

    #[test]
    fn headers_go_with_their_answers() {
        let response = WireError::new(Code::TemporarilyUnavailable)
            .retry_after(7)
            .response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response.headers().get("retry-after").map(|v| v.as_bytes()),
            Some(&b"7"[..])
        );
        let bare = WireError::new(Code::Unauthenticated)
            .challenge("Bearer realm=\"r\"")
            .response();
        assert!(bare.headers().get("content-type").is_none());
        assert!(bare.headers().get("www-authenticate").is_some());
        assert_eq!(
            bare.headers().get("cache-control").map(|v| v.as_bytes()),
            Some(&b"no-store"[..])
        );
    }
}
