//! `POST /device/decisions` (SPEC §5.3): the authentication device reports the user's decision
//! with the request's decision token.

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::ciba::complete::Outcome;
use crate::ciba::decide::{DecisionBody, Refused};
use crate::ciba::decision::DecisionClaims;
use crate::error::json_builder;
use crate::http::authorization::authorization;
use crate::http::form::read_limited;
use crate::http::RequestId;
use crate::state::AppState;

pub async fn device_decisions(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    request_id: RequestId,
) -> HttpResponse {
    let Some(claims) = bearer(&req).and_then(|token| open(&state, token, &request_id)) else {
        return json_builder(StatusCode::UNAUTHORIZED)
            .insert_header((header::WWW_AUTHENTICATE, r#"Bearer error="invalid_token""#))
            .body(json!({"error": "invalid_token"}).to_string());
    };
    let body = match read_limited(&req, payload, state.settings.server.max_body_bytes).await {
        Ok(body) => body,
        Err(e) => return actix_web::ResponseError::error_response(&e),
    };
    let body: DecisionBody = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(e) => return invalid(&format!("malformed decision: {e}")),
    };
    apply(&state, claims, body, request_id.as_str()).await
}

/// Applies a decision and maps the outcome to SPEC §5.3's answers; shared with the console.
pub async fn apply(
    state: &AppState,
    claims: DecisionClaims,
    body: DecisionBody,
    request_id: &str,
) -> HttpResponse {
    let outcome = state.bridge.decide(claims, body, request_id).await;
    let retry_after = state.settings.authlete.retry_after_secs;
    match outcome {
        Ok(Outcome::Done) => HttpResponse::NoContent()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
        Ok(Outcome::AlreadyDecided) => {
            answer(StatusCode::CONFLICT, json!({"error": "already_decided"}))
        }
        Ok(Outcome::Expired) => answer(StatusCode::GONE, json!({"error": "expired"})),
        Ok(Outcome::UpstreamError) => {
            answer(StatusCode::BAD_GATEWAY, json!({"error": "upstream_error"}))
        }
        Ok(Outcome::Unavailable { retry_after_secs }) => unavailable(retry_after_secs),
        Err(Refused::Unavailable) => unavailable(retry_after),
        Ok(Outcome::Unknown) => answer(
            StatusCode::GATEWAY_TIMEOUT,
            json!({"error": "outcome_unknown"}),
        ),
        Ok(Outcome::Internal) => answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"error": "server_error"}),
        ),
        Err(Refused::Invalid(description)) => invalid(&description),
    }
}

/// The decision token of the only `Authorization: Bearer` header.
fn bearer(req: &HttpRequest) -> Option<&str> {
    let found = authorization(req.headers()).ok().flatten()?;
    let token = found.credentials;
    (found.is("bearer") && !token.is_empty()).then_some(token)
}

fn open(state: &AppState, token: &str, request_id: &RequestId) -> Option<DecisionClaims> {
    match state.bridge.keys.open(token, state.clock.unix_secs()) {
        Ok(claims) => Some(claims),
        Err(e) => {
            log::info!("request_id={} decision refused: {e}", request_id.as_str());
            None
        }
    }
}

fn answer(status: StatusCode, body: serde_json::Value) -> HttpResponse {
    json_builder(status).body(body.to_string())
}

fn invalid(description: &str) -> HttpResponse {
    answer(
        StatusCode::BAD_REQUEST,
        json!({"error": "invalid_request", "error_description": description}),
    )
}

fn unavailable(retry_after_secs: u64) -> HttpResponse {
    json_builder(StatusCode::SERVICE_UNAVAILABLE)
        .insert_header((header::RETRY_AFTER, retry_after_secs.to_string()))
        .body(json!({"error": "temporarily_unavailable"}).to_string())
}
