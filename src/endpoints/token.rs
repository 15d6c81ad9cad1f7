//! `POST /token` → Authlete `/auth/token` (SPEC §3.2), with the edge polling control and long
//! polling (SPEC §14).

use std::borrow::Cow;

use actix_web::{web, HttpRequest, HttpResponse};

use super::client_form;
use crate::actions::{respond, ExtraHeaders};
use crate::app::AppState;
use crate::authlete::dto::{PassThroughResponse, TokenRequest};
use crate::authlete::{Action, Api, AuthleteClient};
use crate::ciba::longpoll::Woken;
use crate::ciba::poll::Poll;
use crate::ciba::request_key;
use crate::error::{Code, GatewayError, WireError};
use crate::http::form::FormBody;
use crate::http::headers::dpop;
use crate::http::RequestId;
use crate::state::WakeCause;
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
    // The request key (a digest) only when the polling control or long polling needs it.
    let key = (state.settings.ciba.enforce_interval || state.ciba.long_poll.enabled())
        .then(|| ciba_request_key(&form))
        .flatten();
    let poll = key
        .filter(|_| state.settings.ciba.enforce_interval)
        .map(|key| (key, state.ciba.poll.caller(&credentials, &form.pairs)));
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
    // Taken before Authlete is called, so a decision applied meanwhile is not missed (SPEC §14).
    let mut place = key.and_then(|key| state.ciba.long_poll.place(&key));
    let request = TokenRequest {
        parameters: form.raw,
        credentials,
        htm: dpop.as_ref().map(|_| "POST".to_owned()),
        dpop,
    };
    let mut response: PassThroughResponse = authlete
        .call(Api::Token, &request, request_id.as_str())
        .await?;
    if let Some((key, caller)) = poll {
        match poll_answer(&response) {
            // Without the arrival the check failed open; recording "now" instead would stamp
            // the time Authlete answered and make a client polling at the interval too early.
            // A parked poll counts as this one poll.
            PollAnswer::Pending if arrival.is_some() => {
                state.ciba.poll.record_poll(&key, caller, arrival).await
            }
            PollAnswer::Pending => {}
            PollAnswer::Ready => state.ciba.poll.forget(&key).await,
            PollAnswer::NotTheOwner => {}
        }
    }
    if let Some(place) = place
        .as_mut()
        .filter(|_| is_authorization_pending(&response))
    {
        if let Woken::Settled(wake) = place.park().await {
            // The result is ready: Authlete answers with the tokens, or the final error.
            response = authlete
                .call(Api::Token, &request, request_id.as_str())
                .await?;
            if let Some((key, _)) = poll {
                if matches!(poll_answer(&response), PollAnswer::Ready) {
                    state.ciba.poll.forget(&key).await;
                }
            }
            if wake.cause == WakeCause::Decision && response.action == Action::Ok {
                state.ciba.long_poll.observe_decision_to_token(&wake);
            }
        }
    }
    drop(place);
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

/// The request key of a CIBA grant request with exactly one `auth_req_id`.
fn ciba_request_key(form: &FormBody) -> Option<[u8; 32]> {
    if form.single("grant_type")? != CIBA_GRANT {
        return None;
    }
    Some(request_key(form.single("auth_req_id")?))
}

/// Authlete's answer says `authorization_pending` (not `slow_down`, not a final answer): the
/// poll a long poll holds open (SPEC §14).
fn is_authorization_pending(response: &PassThroughResponse) -> bool {
    response.action == Action::BadRequest
        && oauth_error(response.response_content.as_deref()).as_deref()
            == Some("authorization_pending")
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

/// The `error` member of an OAuth error answer; the other members are skipped unread.
fn oauth_error(content: Option<&str>) -> Option<Cow<'_, str>> {
    #[derive(serde::Deserialize)]
    struct OAuthError<'a> {
        #[serde(borrow)]
        error: Option<Cow<'a, str>>,
    }
    serde_json::from_str::<OAuthError<'_>>(content?).ok()?.error
}
