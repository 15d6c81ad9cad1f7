//! `users.source = "http"` (SPEC §4.1): each lookup is a `POST` to the operator's directory
//! service, bounded by `users.http.timeout_ms` from connect to the last body byte, so a slow or
//! failing directory never holds a client request longer than that.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::http::header::{self, HeaderValue};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{LookupError, Query, User};
use crate::authlete::FailReason;
use crate::config::{HttpDirectorySettings, Settings, UserSource};
use crate::outbound::{self, Addresses, ClientSettings, Failure, ReadBody, Reply};

/// Largest directory answer read; a user's claims stay far below.
const READ: ReadBody = ReadBody::Keep {
    max_bytes: 256 * 1024,
};
/// Connections to the directory per worker.
const MAX_CONNECTIONS: usize = 32;

/// The per-worker HTTP client of the directory; empty unless `users.source = "http"`. A clone
/// shares its connections.
#[derive(Clone)]
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
    let timeout = settings.timeout;
    ClientSettings {
        tls,
        connect_timeout: timeout,
        handshake_timeout: outbound::DEFAULT_HANDSHAKE_TIMEOUT,
        max_connections: MAX_CONNECTIONS,
        keep_alive: outbound::DEFAULT_KEEP_ALIVE,
        addresses: Addresses::Resolve,
    }
    .build()
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
            timeout: settings.timeout,
        })
    }

    pub(super) async fn lookup(
        &self,
        query: &Query<'_>,
        client: &DirectoryClient,
    ) -> Result<User, LookupError> {
        let Some(http) = &client.http else {
            log::error!(
                request_id = query.request_id; "no directory client"
            );
            return Err(LookupError::Failed);
        };
        let reply = match self.exchange(http, query).await {
            Ok(reply) => reply,
            Err(Failure::Timeout) => {
                log::warn!(
                    request_id = query.request_id; "user directory did not answer within {:?}",
                    self.timeout
                );
                return Err(LookupError::Failed);
            }
            Err(cause) => {
                log::warn!(
                    request_id = query.request_id; "user directory failed: {cause}"
                );
                return Err(LookupError::Failed);
            }
        };
        interpret(reply.status, &reply.body, query)
    }

    /// One POST, bounded by `users.http.timeout_ms` from connecting to the last body byte.
    async fn exchange(&self, http: &awc::Client, query: &Query<'_>) -> Result<Reply, Failure> {
        let body = Request {
            hint_type: query.kind.wire(),
            hint: query.hint,
            client_id: query.client_id,
            scopes: &query.scopes,
            acr_values: query.acr_values,
            binding_message: query.binding_message,
            user_code: query.user_code,
        };
        // Strings and lists only: serializing cannot fail, but it is not assumed either.
        let body = serde_json::to_vec(&body)
            .map_err(|e| Failure::Transport(format!("serializing the lookup: {e}")))?;
        let mut request = http
            .post(&self.url)
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .insert_header((header::ACCEPT, "application/json"))
            .insert_header((outbound::X_REQUEST_ID, query.request_id));
        if let Some(authorization) = &self.authorization {
            request = request.insert_header((header::AUTHORIZATION, authorization.clone()));
        }
        let deadline = Instant::now() + self.timeout;
        outbound::send(request, Some(Bytes::from(body)), READ, deadline).await
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
                request_id = id; "user directory answered HTTP {status} with an unknown error"
            );
            return Err(LookupError::Failed);
        }
    }
    if status == 404 {
        return Err(LookupError::Refused(FailReason::UnknownUserId));
    }
    if status != 200 {
        log::warn!(
            request_id = id; "user directory answered HTTP {status}"
        );
        return Err(LookupError::Failed);
    }
    let found = parsed
        .and_then(|v| serde_json::from_value::<Found>(v).ok())
        .filter(|f| !f.subject.is_empty());
    let Some(found) = found else {
        log::warn!(
            request_id = id; "user directory answered 200 without a usable user"
        );
        return Err(LookupError::Failed);
    };
    // A lookup by subject that names someone else would hand out another user's claims.
    if query.kind == super::HintKind::Subject && found.subject != query.hint {
        log::warn!(
            request_id = id; "user directory answered a subject lookup with another user"
        );
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
