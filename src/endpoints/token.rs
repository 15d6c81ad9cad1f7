//! `POST /token` → Authlete `/auth/token` (SPEC §3.2), with the edge polling control.

use actix_web::{web, HttpRequest, HttpResponse};

use super::client_form;
use crate::actions::{respond, ExtraHeaders};
use crate::app::AppState;
use crate::authlete::dto::{PassThroughResponse, TokenRequest};
use crate::authlete::{Action, Api, AuthleteClient};
use crate::ciba::poll::Poll;
use crate::ciba::request_key;
use crate::error::{Code, GatewayError, WireError};
use crate::http::form::FormBody;
use crate::http::headers::dpop;
use crate::http::RequestId;
use crate::telemetry;

const CIBA_GRANT: &str = "urn:openid:params:grant-type:ciba";

pub async fn token(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    authlete: web::Data<AuthleteClient>,
    request_id: RequestId,
) -> Result<HttpResponse, GatewayError> {
    let dpop = dpop(&req)?;
    let (credentials, form) = client_form(&req, payload, &state).await?;
    if form.single("grant_type") == Some(CIBA_GRANT) {
        if let Some(auth_req_id) = form.single("auth_req_id") {
            telemetry::annotate(|| telemetry::auth_req_id_note(auth_req_id));
        }
    }
    let poll =
        poll_key(&state, &form).map(|key| (key, state.ciba.poll.caller(&credentials, &form.pairs)));
    let mut arrival = None;
    if let Some((key, caller)) = poll {
        let (verdict, origin) = state.ciba.poll.check(&key, caller).await;
        if let Some(origin) = origin {
            telemetry::link(&origin);
        }
        match verdict {
            Poll::TooEarly => {
                state.metrics.slow_down.inc();
                return Ok(WireError::new(Code::SlowDown).response());
            }
            Poll::Forward { arrival: at } => arrival = at,
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
    if let Some((key, caller)) = poll {
        match poll_answer(&response) {
            // Without the arrival the check failed open; recording "now" instead would stamp
            // the time Authlete answered and make a client polling at the interval too early.
            PollAnswer::Pending if arrival.is_some() => {
                state.ciba.poll.record_poll(&key, caller, arrival).await
            }
            PollAnswer::Pending => {}
            PollAnswer::Ready => state.ciba.poll.forget(&key).await,
            PollAnswer::NotTheOwner => {}
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

/// What Authlete's answer to a CIBA poll says about the entry of SPEC §3.2.
enum PollAnswer {
    /// `authorization_pending` or `slow_down`: the caller authenticated and owns the id.
    Pending,
    /// Tokens, or a final error only the owner gets: the result is ready.
    Ready,
    /// Anything else (`invalid_client`, `invalid_grant`, ...): it proves nothing, so the owner's
    /// entry stays as it is.
    NotTheOwner,
}

fn poll_answer(response: &PassThroughResponse) -> PollAnswer {
    match response.action {
        Action::Ok => PollAnswer::Ready,
        Action::BadRequest => match oauth_error(response.response_content.as_deref()).as_deref() {
            Some("authorization_pending" | "slow_down") => PollAnswer::Pending,
            Some("access_denied" | "expired_token" | "transaction_failed") => PollAnswer::Ready,
            _ => PollAnswer::NotTheOwner,
        },
        _ => PollAnswer::NotTheOwner,
    }
}

fn oauth_error(content: Option<&str>) -> Option<String> {
    let value = serde_json::from_str::<serde_json::Value>(content?).ok()?;
    Some(value.get("error")?.as_str()?.to_owned())
}
