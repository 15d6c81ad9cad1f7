//! `users.source = "http"` (SPEC §4.1): each lookup is a `POST` to the operator's directory
//! service, bounded by `users.http.timeout_ms` from connect to the last body byte, so a slow or
//! failing directory never holds a client request longer than that.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header::{self, HeaderValue};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{LookupError, Query, User};
use crate::authlete::FailReason;
use crate::config::{HttpDirectorySettings, Settings, UserSource};

/// Largest directory answer read; a user's claims stay far below.
const MAX_RESPONSE_BYTES: usize = 256 * 1024;
/// Connections to the directory per worker.
const MAX_CONNECTIONS: usize = 32;

/// The per-worker HTTP client of the directory; empty unless `users.source = "http"`.
pub struct DirectoryClient {
    http: Option<awc::Client>,
}

impl DirectoryClient {
    pub fn new(settings: &Settings, tls: Arc<rustls::ClientConfig>) -> Self {
        let http = match (&settings.users.source, &settings.users.http) {
            (UserSource::Http, Some(http)) => Some(build_client(http, tls)),
            _ => None,
        };
        Self { http }
    }
}

fn build_client(settings: &HttpDirectorySettings, tls: Arc<rustls::ClientConfig>) -> awc::Client {
    let timeout = Duration::from_millis(settings.timeout_ms);
    let connector = awc::Connector::new()
        .timeout(timeout)
        .limit(MAX_CONNECTIONS)
        .rustls_0_23(tls);
    awc::Client::builder()
        .connector(connector)
        .no_default_headers()
        .add_default_header((header::USER_AGENT, crate::USER_AGENT))
        // A directory that redirects is misconfigured; following could leak the bearer token.
        .disable_redirects()
        .timeout(timeout)
        .finish()
}

/// The directory's address and credentials; shared by every worker.
pub struct HttpDirectory {
    url: String,
    authorization: Option<HeaderValue>,
    timeout: Duration,
}

/// The lookup as the directory receives it.
#[derive(Serialize)]
struct Request<'a> {
    hint_type: &'static str,
    hint: &'a str,
    client_id: Option<&'a str>,
    scopes: &'a [&'a str],
    acr_values: &'a [String],
    binding_message: Option<&'a str>,
    user_code: Option<&'a str>,
}

/// A found user.
#[derive(Deserialize)]
struct Found {
    subject: String,
    #[serde(default)]
    user_code_required: bool,
    #[serde(default)]
    user_code_valid: bool,
    #[serde(default)]
    claims: Map<String, Value>,
}

impl HttpDirectory {
    pub fn new(settings: &HttpDirectorySettings) -> Result<Self, String> {
        let authorization = match &settings.bearer_token {
            Some(token) => {
                let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                    .map_err(|_| "users.http.bearer_token is not a valid header value")?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        Ok(Self {
            url: settings.url.to_string(),
            authorization,
            timeout: Duration::from_millis(settings.timeout_ms),
        })
    }

    pub(super) async fn lookup(
        &self,
        query: &Query<'_>,
        client: &DirectoryClient,
    ) -> Result<User, LookupError> {
        let Some(http) = &client.http else {
            log::error!("request_id={} no directory client", query.request_id);
            return Err(LookupError::Failed);
        };
        let exchange = self.exchange(http, query);
        let (status, body) = match actix_web::rt::time::timeout(self.timeout, exchange).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(cause)) => {
                log::warn!(
                    "request_id={} user directory failed: {cause}",
                    query.request_id
                );
                return Err(LookupError::Failed);
            }
            Err(_) => {
                log::warn!(
                    "request_id={} user directory did not answer within {:?}",
                    query.request_id,
                    self.timeout
                );
                return Err(LookupError::Failed);
            }
        };
        interpret(status, &body, query)
    }

    /// One POST; the caller bounds it in time.
    async fn exchange(
        &self,
        http: &awc::Client,
        query: &Query<'_>,
    ) -> Result<(u16, bytes::Bytes), String> {
        let body = Request {
            hint_type: query.kind.wire(),
            hint: query.hint,
            client_id: query.client_id,
            scopes: &query.scopes,
            acr_values: query.acr_values,
            binding_message: query.binding_message,
            user_code: query.user_code,
        };
        let mut request = http
            .post(&self.url)
            .timeout(self.timeout)
            .insert_header((header::ACCEPT, "application/json"))
            .insert_header(("X-Request-Id", query.request_id));
        if let Some(authorization) = &self.authorization {
            request = request.insert_header((header::AUTHORIZATION, authorization.clone()));
        }
        let mut response = request.send_json(&body).await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let body = response
            .body()
            .limit(MAX_RESPONSE_BYTES)
            .await
            .map_err(|e| format!("reading the answer: {e}"))?;
        Ok((status, body))
    }
}

/// The protocol of SPEC §4.1: a named error with any status, 404, a user with 200; anything
/// else is a directory failure.
fn interpret(status: u16, body: &[u8], query: &Query<'_>) -> Result<User, LookupError> {
    let id = query.request_id;
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    if let Some(code) = parsed
        .as_ref()
        .and_then(|v| v.get("error"))
        .and_then(Value::as_str)
    {
        if let Some(reason) = FailReason::from_error_code(code) {
            return Err(LookupError::Refused(reason));
        }
        if status != 404 {
            log::warn!(
                "request_id={id} user directory answered HTTP {status} with an unknown error"
            );
            return Err(LookupError::Failed);
        }
    }
    if status == 404 {
        return Err(LookupError::Refused(FailReason::UnknownUserId));
    }
    if status != 200 {
        log::warn!("request_id={id} user directory answered HTTP {status}");
        return Err(LookupError::Failed);
    }
    let found = parsed
        .and_then(|v| serde_json::from_value::<Found>(v).ok())
        .filter(|f| !f.subject.is_empty());
    let Some(found) = found else {
        log::warn!("request_id={id} user directory answered 200 without a usable user");
        return Err(LookupError::Failed);
    };
    // A lookup by subject that names someone else would hand out another user's claims.
    if query.kind == super::HintKind::Subject && found.subject != query.hint {
        log::warn!("request_id={id} user directory answered a subject lookup with another user");
        return Err(LookupError::Failed);
    }
    Ok(User {
        subject: found.subject,
        user_code_required: found.user_code_required,
        user_code_valid: found.user_code_valid,
        claims: found.claims,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(status: u16, body: &str) -> Result<User, LookupError> {
        let query = Query::subject("alice", "rid");
        interpret(status, body.as_bytes(), &query)
    }

    #[test]
    fn named_errors_win_over_the_status_and_404_means_unknown() {
        let refused = |r| Err(LookupError::Refused(r));
        assert_eq!(
            run(400, r#"{"error":"expired_login_hint_token"}"#).map(|u| u.subject),
            refused(FailReason::ExpiredLoginHintToken)
        );
        assert_eq!(
            run(404, "").map(|u| u.subject),
            refused(FailReason::UnknownUserId)
        );
        assert_eq!(
            run(200, r#"{"error":"nope"}"#).map(|u| u.subject),
            Err(LookupError::Failed)
        );
        assert_eq!(run(502, "{}").map(|u| u.subject), Err(LookupError::Failed));
    }

    #[test]
    fn a_user_needs_a_subject_and_a_subject_lookup_the_same_one() {
        let ok = run(200, r#"{"subject":"alice","claims":{"name":"Alice"}}"#);
        assert!(ok.is_ok_and(|u| !u.user_code_valid && u.claims["name"] == "Alice"));
        assert_eq!(
            run(200, r#"{"subject":"mallory"}"#).map(|u| u.subject),
            Err(LookupError::Failed)
        );
        assert_eq!(
            run(200, r#"{"claims":{}}"#).map(|u| u.subject),
            Err(LookupError::Failed)
        );
    }
}
