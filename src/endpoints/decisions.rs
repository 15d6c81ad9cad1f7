//! `POST /device/decisions` (SPEC §5.3): the authentication device reports the user's decision
//! with the request's decision token.

use std::rc::Rc;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::app::AppState;
use crate::ciba::background::Context;
use crate::ciba::complete::Outcome;
use crate::ciba::decide::{decide, DecisionBody, DecisionRejected};
use crate::ciba::decision::DecisionClaims;
use crate::error::{Code, WireError};
use crate::http::authorization::authorization;
use crate::http::form::read_limited;
use crate::http::RequestId;

pub async fn device_decisions(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    jobs: web::Data<Rc<Context>>,
    request_id: RequestId,
) -> HttpResponse {
    let Some(claims) = bearer(&req).and_then(|token| open(&state, token, &request_id)) else {
        return WireError::new(Code::InvalidToken)
            .challenge(r#"Bearer error="invalid_token""#)
            .response();
    };
    let body = match read_limited(&req, payload, state.settings.server.max_body_bytes).await {
        Ok(body) => body,
        Err(e) => return actix_web::ResponseError::error_response(&e),
    };
    let body: DecisionBody = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(e) => return invalid(format!("malformed decision: {e}")).response(),
    };
    apply(&state, Some(&jobs), claims, body, request_id.as_str()).await
}

/// Applies a decision and maps the outcome to SPEC §5.3's answers; shared with the console,
/// whose listener has no clients of its own (`here` is `None`: the background thread's).
pub async fn apply(
    state: &AppState,
    here: Option<&Rc<Context>>,
    claims: DecisionClaims,
    body: DecisionBody,
    request_id: &str,
) -> HttpResponse {
    let outcome = decide(&state.ciba.bridge, here, claims, body, request_id).await;
    let unavailable = |secs| WireError::new(Code::TemporarilyUnavailable).retry_after(secs);
    let refusal = match outcome {
        Ok(Outcome::Done) => {
            return HttpResponse::NoContent()
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish()
        }
        Ok(Outcome::AlreadyDecided) => WireError::new(Code::AlreadyDecided),
        Ok(Outcome::Expired) => WireError::new(Code::Expired),
        Ok(Outcome::UpstreamError) => WireError::new(Code::UpstreamError),
        Ok(Outcome::Unavailable { retry_after_secs }) => unavailable(retry_after_secs),
        Err(DecisionRejected::Unavailable) => {
            unavailable(state.settings.authlete.retry_after.as_secs())
        }
        Ok(Outcome::Unknown) => WireError::new(Code::OutcomeUnknown),
        Ok(Outcome::Internal) => WireError::new(Code::ServerError),
        Err(DecisionRejected::Invalid(description)) => invalid(description),
    };
    refusal.response()
}

/// The decision token of the only `Authorization: Bearer` header.
fn bearer(req: &HttpRequest) -> Option<&str> {
    let found = authorization(req.headers()).ok().flatten()?;
    let token = found.credentials;
    (found.is("bearer") && !token.is_empty()).then_some(token)
}

fn open(state: &AppState, token: &str, request_id: &RequestId) -> Option<DecisionClaims> {
    match state.ciba.bridge.keys.open(token, state.clock.unix_secs()) {
        Ok(claims) => Some(claims),
        Err(e) => {
            log::info!(
                request_id = request_id.as_str(); "decision refused: {e}"
            );
            None
        }
    }
}

fn invalid(description: String) -> WireError {
    WireError::new(Code::InvalidRequest).description(description)
}
