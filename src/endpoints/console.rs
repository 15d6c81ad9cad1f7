//! The developer console (SPEC §5.4) on the admin listener: a page listing pending requests
//! with Approve and Deny buttons, its JSON feed, and a sink for the demo clients'
//! notifications.

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde::Deserialize;
use serde_json::{json, Value};

use super::decisions::apply;
use crate::app::AppState;
use crate::ciba::decide::DecisionBody;
use crate::error::{json_builder, Code, WireError};
use crate::http::authorization::authorization;
use crate::http::form::read_limited;
use crate::http::RequestId;
use crate::state::StateError;

/// Characters of a token value the sink shows.
const TOKEN_PREFIX_CHARS: usize = 8;
/// Largest body the console reads (decisions, notifications to the sink).
const MAX_BODY_BYTES: usize = 256 * 1024;
/// Largest notification body the sink records.
const SINK_MAX_BODY_BYTES: usize = 64 * 1024;

const PAGE: &str = include_str!("console_assets/console.html");
const SCRIPT: &str = include_str!("console_assets/console.js");
const CSP: &str = "default-src 'self'; object-src 'none'; frame-ancestors 'none'";

pub async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .content_type("text/html; charset=utf-8")
        .body(PAGE)
}

pub async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .content_type("text/javascript; charset=utf-8")
        .body(SCRIPT)
}

/// With `admin.console_token` set, the data endpoints need `Authorization: Bearer <token>`.
fn authorized(req: &HttpRequest, state: &AppState) -> bool {
    let Some(expected) = &state.settings.admin.console_token else {
        return true;
    };
    authorization(req.headers())
        .ok()
        .flatten()
        .filter(|found| found.is("bearer") && !found.credentials.is_empty())
        .is_some_and(|found| expected.ct_eq(found.credentials.as_bytes()))
}

fn unauthorized() -> HttpResponse {
    WireError::new(Code::InvalidToken)
        .challenge("Bearer realm=\"console\"")
        .response()
}

pub async fn requests(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    if !authorized(&req, &state) {
        return unauthorized();
    }
    let listed = match state.ciba.bridge.registry.list().await {
        Ok(listed) => listed,
        Err(e) => return unavailable(&state, &e),
    };
    let entries: Vec<Value> = listed
        .into_iter()
        .map(|e| Value::Object(e.device_view()))
        .collect();
    json_builder(StatusCode::OK).body(Value::from(entries).to_string())
}

/// The state backend cannot read the registry (SPEC §12 "Failure").
fn unavailable(state: &AppState, e: &StateError) -> HttpResponse {
    log::warn!("console: the state backend cannot read the registry: {e}");
    WireError::new(Code::TemporarilyUnavailable)
        .retry_after(state.ciba.bridge.retry_after_secs)
        .response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleDecision {
    request_id: String,
    decision: String,
}

pub async fn decide(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
    request_id: RequestId,
) -> HttpResponse {
    if !authorized(&req, &state) {
        return unauthorized();
    }
    let body = match read_limited(&req, payload, MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(e) => return e.error_response(),
    };
    let Ok(decision) = serde_json::from_slice::<ConsoleDecision>(&body) else {
        return WireError::new(Code::InvalidRequest).response();
    };
    let entry = match state.ciba.bridge.registry.get(&decision.request_id).await {
        Ok(Some(entry)) => entry,
        Ok(None) => return WireError::new(Code::NotFound).response(),
        Err(e) => return unavailable(&state, &e),
    };
    let claims = match state
        .ciba
        .bridge
        .keys
        .open(&entry.decision_token, state.clock.unix_secs())
    {
        Ok(claims) => claims,
        Err(_) => return WireError::new(Code::Expired).response(),
    };
    let body = DecisionBody {
        decision: decision.decision,
        acr: None,
        amr: None,
        auth_time: None,
        claims: None,
    };
    apply(&state, None, claims, body, request_id.as_str()).await
}

/// The notification sink: records what a demo client would receive, token values cut.
pub async fn receive_notification(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> HttpResponse {
    let body = match read_limited(&req, payload, MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(e) => return e.error_response(),
    };
    let presented = match authorization(req.headers()) {
        Ok(Some(found)) if found.credentials.is_empty() => Some(cut(found.scheme)),
        Ok(Some(found)) => Some(format!("{} {}", found.scheme, cut(found.credentials))),
        _ => None,
    };
    let mut payload = if body.len() > SINK_MAX_BODY_BYTES {
        Value::String("(body too large)".into())
    } else {
        serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()))
    };
    if let Value::Object(members) = &mut payload {
        for name in ["access_token", "refresh_token", "id_token"] {
            if let Some(Value::String(token)) = members.get_mut(name) {
                *token = cut(token);
            }
        }
    }
    state.console.push(json!({
        "received_at": state.clock.unix_secs(),
        "authorization": presented,
        "body": payload,
    }));
    HttpResponse::NoContent().finish()
}

pub async fn notifications(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    if !authorized(&req, &state) {
        return unauthorized();
    }
    json_builder(StatusCode::OK).body(Value::from(state.console.list()).to_string())
}

fn cut(token: &str) -> String {
    let prefix: String = token.chars().take(TOKEN_PREFIX_CHARS).collect();
    if prefix.len() < token.len() {
        format!("{prefix}…")
    } else {
        prefix
    }
}
