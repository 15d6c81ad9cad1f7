//! The `ApiResponse` envelope (`resultCode`, `resultMessage`, `action`, `responseContent`) and
//! the two shapes of `responseContent` errors: OAuth JSON and `WWW-Authenticate` values.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::{json, Map, Value};

use super::codes::Code;
use super::params::{parameters, Body, Params, Unreadable};

/// A JSON object under construction; nulls are never inserted.
#[derive(Debug, Default)]
pub(crate) struct Envelope(Map<String, Value>);

impl Envelope {
    /// An envelope with `resultCode` and `resultMessage` set.
    pub fn new(code: Code, args: &[&str]) -> Self {
        let mut map = Map::new();
        map.insert("resultCode".into(), code.id.into());
        map.insert("resultMessage".into(), code.message(args).into());
        Self(map)
    }

    pub fn action(self, action: &str) -> Self {
        self.set("action", action)
    }

    pub fn content(self, content: impl Into<String>) -> Self {
        self.set("responseContent", content.into())
    }

    /// Sets `key` unless `value` is null (an absent `Option`).
    pub fn set(mut self, key: &str, value: impl Into<Value>) -> Self {
        let value = value.into();
        if !value.is_null() {
            self.0.insert(key.to_owned(), value);
        }
        self
    }

    /// Sets `key` only if it is not set yet (primitives that must always be present).
    pub fn set_default(mut self, key: &str, value: impl Into<Value>) -> Self {
        if !self.0.contains_key(key) {
            self.0.insert(key.to_owned(), value.into());
        }
        self
    }

    /// Answers with HTTP 200: every protocol-level outcome travels in `action`.
    pub fn ok(self) -> HttpResponse {
        self.status(StatusCode::OK)
    }

    pub fn status(self, status: StatusCode) -> HttpResponse {
        HttpResponse::build(status).json(Value::Object(self.0))
    }

    /// An envelope whose `responseContent` is an OAuth error generated from `code`.
    pub fn oauth(code: Code, args: &[&str], action: &str, error: &str) -> Self {
        Self::new(code, args)
            .action(action)
            .content(oauth_error(error, code, args))
    }

    /// An envelope whose `responseContent` is a `WWW-Authenticate: Bearer` value from `code`.
    pub fn bearer(code: Code, args: &[&str], action: &str, error: &str) -> Self {
        Self::new(code, args)
            .action(action)
            .content(bearer_error(error, code, args))
    }

    /// An envelope whose `responseContent` is a `WWW-Authenticate: DPoP` value from `code`
    /// (RFC 9449 §7.1), for a DPoP-bound token.
    pub fn dpop(code: Code, args: &[&str], action: &str, error: &str) -> Self {
        Self::new(code, args)
            .action(action)
            .content(challenge("DPoP", error, code, args))
    }
}

/// `{"error":..,"error_description":"[A..] ..","error_uri":"https://docs.authlete.com/#A.."}`.
pub(crate) fn oauth_error(error: &str, code: Code, args: &[&str]) -> String {
    json!({
        "error": error,
        "error_description": code.message(args),
        "error_uri": error_uri(code),
    })
    .to_string()
}

/// `Bearer error="..",error_description="..",error_uri=".."`: the challenge that introspection
/// and userinfo put into `responseContent`.
pub(crate) fn bearer_error(error: &str, code: Code, args: &[&str]) -> String {
    challenge("Bearer", error, code, args)
}

fn challenge(scheme: &str, error: &str, code: Code, args: &[&str]) -> String {
    // Double quotes and backslashes are not allowed inside a quoted-string unescaped.
    let description = code.message(args).replace(['"', '\\'], "'");
    format!(
        "{scheme} error=\"{error}\",error_description=\"{description}\",error_uri=\"{}\"",
        error_uri(code)
    )
}

/// `{"error":..}` plus `error_description`/`error_uri` when given.
pub(crate) fn error_body(
    error: &str,
    description: Option<String>,
    uri: Option<String>,
) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("error".into(), error.into());
    if let Some(description) = description {
        body.insert("error_description".into(), description.into());
    }
    if let Some(uri) = uri {
        body.insert("error_uri".into(), uri.into());
    }
    body
}

pub(crate) fn error_uri(code: Code) -> String {
    format!("https://docs.authlete.com/#{}", code.id)
}

/// A non-2xx answer about the API call itself: only `resultCode` and `resultMessage`.
pub(crate) fn api_failure(status: StatusCode, code: Code, args: &[&str]) -> HttpResponse {
    Envelope::new(code, args).status(status)
}

/// Reads an API call's `parameters`, or gives Authlete's answer when they cannot be read:
/// missing or not form-encoded is the caller's mistake (`INTERNAL_SERVER_ERROR` with the
/// API's `missing` or `malformed` code), holding no parameter is the client's (`BAD_REQUEST`,
/// `invalid_request`, with `empty`).
pub(crate) fn read_parameters(
    body: &Body,
    [missing, malformed, empty]: [Code; 3],
) -> Result<Params, Envelope> {
    let caller_error = |code| Envelope::oauth(code, &[], "INTERNAL_SERVER_ERROR", "server_error");
    parameters(body).map_err(|unreadable| match unreadable {
        Unreadable::Missing => caller_error(missing),
        Unreadable::Malformed => caller_error(malformed),
        Unreadable::Empty => Envelope::oauth(empty, &[], "BAD_REQUEST", "invalid_request"),
    })
}
