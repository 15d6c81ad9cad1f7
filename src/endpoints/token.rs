//! `POST /token` → Authlete `/auth/token` (SPEC §3.2), with the edge polling control.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::actions::{respond, ExtraHeaders};
use crate::authlete::dto::{PassThroughResponse, TokenRequest};
use crate::authlete::{Api, AuthleteClient};
use crate::ciba::request_key;
use crate::error::{json_builder, GatewayError};
use crate::http::client_form;
use crate::http::credentials::dpop;
use crate::http::form::FormBody;
use crate::http::RequestId;
use crate::state::AppState;

const CIBA_GRANT: &str = "urn:openid:params:grant-type:ciba";

pub async fn token(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    authlete: web::Data<AuthleteClient>,
    request_id: RequestId,
) -> Result<HttpResponse, GatewayError> {
    let arrival = state.clock.instant();
    let dpop = dpop(&req)?;
    let (credentials, form) = client_form(&req, payload, &state).await?;
    let poll_key = poll_key(&state, &form);
    if let Some(key) = &poll_key {
        if state.poll.too_early(key, arrival) {
            state.metrics.slow_down.inc();
            return Ok(json_builder(StatusCode::BAD_REQUEST).body(r#"{"error":"slow_down"}"#));
        }
    }
    let request = TokenRequest {
        parameters: form.raw,
        credentials,
        htm: dpop.as_ref().map(|_| "POST".to_owned()),
        dpop,
    };
    let response: PassThroughResponse = authlete
        .call(Api::Token, &request, request_id.as_str())
        .await?;
    if let Some(key) = poll_key {
        match response.action.as_str() {
            "BAD_REQUEST" if is_pending(response.response_content.as_deref()) => {
                state.poll.record_poll(key, arrival);
            }
            "OK" => state.poll.forget(&key),
            _ => {}
        }
    }
    let extra = ExtraHeaders {
        dpop_nonce: response.dpop_nonce.as_deref(),
        attestation_challenge: response.attestation_challenge.as_deref(),
    };
    respond(
        Api::Token,
        &response.action,
        response.response_content.as_deref(),
        &extra,
        state.realm(),
    )
}

/// The polling-control key of a CIBA token request with exactly one `auth_req_id`.
fn poll_key(state: &AppState, form: &FormBody) -> Option<[u8; 32]> {
    if !state.settings.ciba.enforce_interval || form.single("grant_type")? != CIBA_GRANT {
        return None;
    }
    Some(request_key(form.single("auth_req_id")?))
}

/// True when Authlete's error is `authorization_pending` or `slow_down`: proof that the caller
/// authenticated and owns the id.
fn is_pending(content: Option<&str>) -> bool {
    content
        .and_then(|c| serde_json::from_str::<serde_json::Value>(c).ok())
        .and_then(|v| v.get("error")?.as_str().map(str::to_owned))
        .is_some_and(|e| e == "authorization_pending" || e == "slow_down")
}
