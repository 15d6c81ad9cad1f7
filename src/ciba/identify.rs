//! User identification (SPEC §4): the steps after `USER_IDENTIFICATION`, each failure ending in
//! `/backchannel/authentication/fail`, success in `/backchannel/authentication/issue`.

use std::sync::Once;
use std::time::Duration;

use actix_web::HttpResponse;

use super::decision::DecisionClaims;
use super::device::{authorization_details, request_context, IssuedRequest};
use super::dispatch::dispatch;
use super::pending::Reservation;
use super::{request_key, Ciba, FailReason};
use crate::actions::{respond, ExtraHeaders};
use crate::authlete::dto::{
    BackchannelResponse, FailRequest, IssueResponse, PassThroughResponse, TicketRequest,
};
use crate::authlete::{Action, Api, AuthleteClient};
use crate::directory::{DirectoryClient, HintKind, LookupError, Query, User};
use crate::error::{Code, GatewayError, WireError};
use crate::state::StateError;
use crate::state::{Attempt, Guesser};

/// Why identification stopped: the `/fail` reason and the metric label.
struct IdentificationFailure {
    reason: FailReason,
    metric: &'static str,
}

impl IdentificationFailure {
    /// The user-code lockout: `ACCESS_DENIED`, counted as `USER_CODE_LOCKED`.
    fn locked() -> Self {
        IdentificationFailure {
            reason: FailReason::AccessDenied,
            metric: super::USER_CODE_LOCKED,
        }
    }
}

/// Why a request stops before `/issue`.
enum Stop {
    /// Refused: `/fail` with the reason.
    Refused(IdentificationFailure),
    /// The state backend could not check or record what the guards need (SPEC §12): the
    /// client gets 503 and nothing is issued. The ticket is left to expire at Authlete: only
    /// this gateway knows it, and `/fail` would cost another call to Authlete while answering
    /// nothing the client sees.
    Untracked,
}

impl From<IdentificationFailure> for Stop {
    fn from(refusal: IdentificationFailure) -> Self {
        Stop::Refused(refusal)
    }
}

impl From<FailReason> for Stop {
    fn from(reason: FailReason) -> Self {
        Stop::Refused(reason.into())
    }
}

impl From<crate::state::StateError> for Stop {
    fn from(_: crate::state::StateError) -> Self {
        Stop::Untracked
    }
}

impl From<FailReason> for IdentificationFailure {
    fn from(reason: FailReason) -> Self {
        IdentificationFailure {
            reason,
            metric: reason.as_str(),
        }
    }
}

/// One backchannel request after Authlete answered `USER_IDENTIFICATION`.
pub struct Identification<'a> {
    pub ciba: &'a Ciba,
    pub authlete: &'a AuthleteClient,
    /// The worker's directory client (used by the HTTP directory).
    pub directory: &'a DirectoryClient,
    pub request_id: &'a str,
    pub response: BackchannelResponse,
}

impl Identification<'_> {
    /// Runs steps 1–5 and returns the client's final answer.
    pub async fn run(self) -> Result<HttpResponse, GatewayError> {
        let Some(ticket) = self.response.ticket.clone() else {
            log::error!(
                request_id = self.request_id; "USER_IDENTIFICATION without a ticket"
            );
            return Err(GatewayError::Internal);
        };
        match self.check().await {
            Ok((user, reservation)) => self.issue(&ticket, user, reservation).await,
            Err(Stop::Refused(refusal)) => self.fail(&ticket, refusal).await,
            Err(Stop::Untracked) => {
                log::warn!(
                    request_id = self.request_id; "not issued: the state backend cannot track its guards"
                );
                Ok(WireError::new(Code::TemporarilyUnavailable)
                    .retry_after(self.ciba.bridge.retry_after_secs)
                    .response())
            }
        }
    }

    fn extra(&self) -> ExtraHeaders<'_> {
        ExtraHeaders {
            dpop_nonce: None,
            attestation_challenge: self.response.attestation_challenge.as_deref(),
        }
    }

    /// Steps 1–4: subject (and the grant's), user code, binding message, pending cap.
    async fn check(&self) -> Result<(User, Reservation), Stop> {
        let user = self.resolve_subject().await?;
        self.check_grant_subject(&user)?;
        self.check_user_code(&user).await?;
        if let Some(message) = &self.response.binding_message {
            if !self.ciba.binding_message.is_match(message) {
                return Err(FailReason::InvalidBindingMessage.into());
            }
        }
        let reservation = self
            .ciba
            .pending
            .try_reserve(&user.subject)
            .await?
            .ok_or(Stop::from(FailReason::AccessDenied))?;
        Ok((user, reservation))
    }

    async fn resolve_subject(&self) -> Result<User, Stop> {
        let r = &self.response;
        let (kind, hint) = match r.hint_type.as_deref() {
            Some("ID_TOKEN_HINT") => (HintKind::Subject, r.sub.as_deref()),
            Some("LOGIN_HINT") => (HintKind::LoginHint, r.hint.as_deref()),
            Some("LOGIN_HINT_TOKEN") => (HintKind::LoginHintToken, r.hint.as_deref()),
            _ => (HintKind::LoginHint, None),
        };
        let Some(hint) = hint.filter(|h| !h.is_empty()) else {
            return Err(FailReason::UnknownUserId.into());
        };
        let client_id = self.client_id();
        let query = Query {
            kind,
            hint,
            user_code: r.user_code.as_deref(),
            request_id: self.request_id,
            client_id: client_id.as_deref(),
            scopes: r.scopes.iter().flatten().map(|s| s.name.as_str()).collect(),
            acr_values: r.acrs.as_deref().unwrap_or_default(),
            binding_message: r.binding_message.as_deref(),
        };
        // A directory that judges user codes itself names no subject when it refuses one, so
        // its guesses are counted against the hint, from before the lookup.
        let lockout = &self.ciba.lockout;
        let by_hint = Guesser::Hint(hint);
        let guess = if r.user_code.is_some() && self.ciba.directory.judges_user_codes() {
            // A failing check fails closed: the lock must not open because the backend is down.
            match lockout.begin(by_hint).await? {
                Attempt::Locked => return Err(IdentificationFailure::locked().into()),
                Attempt::Begun(guess) => Some(guess),
            }
        } else {
            None
        };
        let found = self.ciba.directory.lookup(query, self.directory).await;
        if let Some(guess) = guess {
            let wrong = matches!(
                found,
                Err(LookupError::Refused(FailReason::InvalidUserCode))
            );
            lockout.settle(by_hint, guess, !wrong).await;
        }
        match found {
            Ok(user) => Ok(user),
            Err(LookupError::Refused(reason)) => Err(reason.into()),
            Err(LookupError::Failed) => Err(FailReason::ServerError.into()),
        }
    }

    /// Grant management: a request naming an existing grant must be for that grant's user, or
    /// the user the hint names would approve, and bind, another user's grant.
    fn check_grant_subject(&self, user: &User) -> Result<(), IdentificationFailure> {
        match self.response.grant_subject.as_deref() {
            Some(grant_subject) if grant_subject != user.subject => {
                // Neither subject is logged: they identify users.
                log::warn!(
                    request_id = self.request_id; "refused: the grant the request names belongs to another user \
                     than the hint's"
                );
                Err(FailReason::AccessDenied.into())
            }
            _ => Ok(()),
        }
    }

    /// The guess is counted before it is judged, in one step with the lockout check, so
    /// concurrent wrong guesses never get past the limit. A failing check fails closed (503):
    /// the lock must not open because the state backend is down.
    async fn check_user_code(&self, user: &User) -> Result<(), Stop> {
        if !(self.response.user_code_required || user.user_code_required) {
            return Ok(());
        }
        let lockout = &self.ciba.lockout;
        let who = Guesser::Subject(&user.subject);
        let Attempt::Begun(guess) = lockout.begin(who).await? else {
            return Err(IdentificationFailure::locked().into());
        };
        if self.response.user_code.as_deref().is_none_or(str::is_empty) {
            // No guess was made.
            lockout.settle(who, guess, true).await;
            return Err(FailReason::MissingUserCode.into());
        }
        lockout.settle(who, guess, user.user_code_valid).await;
        if !user.user_code_valid {
            return Err(FailReason::InvalidUserCode.into());
        }
        Ok(())
    }

    async fn fail(
        &self,
        ticket: &str,
        refusal: IdentificationFailure,
    ) -> Result<HttpResponse, GatewayError> {
        self.ciba
            .metrics
            .backchannel_failures
            .with_label_values(&[refusal.metric])
            .inc();
        let request = FailRequest {
            ticket,
            reason: refusal.reason.as_str(),
        };
        let answer: PassThroughResponse = self
            .authlete
            .call(Api::Fail, &request, self.request_id)
            .await?;
        respond(
            Api::Fail,
            &answer.action,
            answer.response_content.as_deref(),
            &self.extra(),
            &self.ciba.realm,
        )
    }

    /// Step 5, then step 6 once the acknowledgement is ready and before it is sent.
    async fn issue(
        &self,
        ticket: &str,
        user: User,
        reservation: Reservation,
    ) -> Result<HttpResponse, GatewayError> {
        let answer = self
            .authlete
            .call::<_, IssueResponse>(Api::Issue, &TicketRequest { ticket }, self.request_id)
            .await;
        let answer = match answer {
            Ok(answer) => answer,
            Err(failure) => {
                reservation.cancel().await;
                return Err(failure.into());
            }
        };
        let (Some(auth_req_id), Action::Ok) = (answer.auth_req_id.as_deref(), &answer.action)
        else {
            reservation.cancel().await;
            return respond(
                Api::Issue,
                &answer.action,
                answer.response_content.as_deref(),
                &self.extra(),
                &self.ciba.realm,
            );
        };
        let key = request_key(auth_req_id);
        crate::telemetry::annotate(|| crate::telemetry::auth_req_id_note(auth_req_id));
        let lifetime = Duration::from_secs(answer.expires_in.max(0) as u64);
        if let Err(e) = reservation.commit(key, lifetime).await {
            return Ok(self.untracked("its pending place", &e));
        }
        let origin = crate::telemetry::recorded_position();
        (self.ciba.poll)
            .record_interval(key, answer.interval, origin.as_deref())
            .await;
        let content = answer
            .response_content
            .as_deref()
            .map(|c| acknowledgement(c, &self.ciba.interval_warning));
        let response = respond(
            Api::Issue,
            &Action::Ok,
            content.as_deref(),
            &self.extra(),
            &self.ciba.realm,
        )?;
        let issued = self.issued(ticket, key, user, lifetime);
        let subject = issued.claims.subject.clone();
        if let Err(e) = dispatch(&self.ciba.bridge, issued).await {
            self.ciba.pending.release(&subject, &key).await;
            return Ok(self.untracked("its registry entry or device message", &e));
        }
        Ok(response)
    }

    /// 503 instead of the acknowledgement of an issued request that the state backend could
    /// not track (SPEC §12 "Issue"): the auth_req_id is never sent, and Authlete's request
    /// expires unused.
    fn untracked(&self, what: &str, e: &StateError) -> HttpResponse {
        log::warn!(
            request_id = self.request_id; "not acknowledged: the state backend did not store {what}: {e}"
        );
        WireError::new(Code::TemporarilyUnavailable)
            .retry_after(self.ciba.bridge.retry_after_secs)
            .response()
    }

    /// The client id as the client sent it: the alias when it used one.
    fn client_id(&self) -> Option<String> {
        let r = &self.response;
        r.client_id_alias
            .clone()
            .filter(|_| r.client_id_alias_used)
            .or_else(|| r.client_id.as_ref().map(json_id))
    }

    fn issued(&self, ticket: &str, key: [u8; 32], user: User, lifetime: Duration) -> IssuedRequest {
        let r = &self.response;
        let issued_at = self.ciba.clock.unix_secs();
        IssuedRequest {
            claims: DecisionClaims {
                ticket: ticket.to_owned(),
                subject: user.subject,
                client_id: self.client_id(),
                client_name: r.client_name.clone(),
                delivery_mode: r.delivery_mode,
                claim_names: r.claim_names.clone().unwrap_or_default(),
                acrs: r.acrs.clone().unwrap_or_default(),
                issued_at,
                expires_at: issued_at + lifetime.as_secs(),
                traceparent: crate::telemetry::current().map(|s| s.trace.traceparent()),
            },
            auth_req_id_key: key,
            scopes: r.scopes.iter().flatten().map(|s| s.name.clone()).collect(),
            binding_message: r.binding_message.clone(),
            authorization_details: authorization_details(r.authorization_details.as_ref()),
            request_context: request_context(r.request_context.as_ref()),
            resources: r.resources.clone(),
            request_id: self.request_id.to_owned(),
        }
    }
}

/// The issue acknowledgement as the client gets it: an `interval` ≤ 0 is removed (CIBA §7.3;
/// clients then wait 5 s), anything else stays verbatim.
fn acknowledgement(content: &str, warning: &Once) -> String {
    let Ok(serde_json::Value::Object(mut body)) = serde_json::from_str(content) else {
        return content.to_owned();
    };
    let non_positive = body
        .get("interval")
        .and_then(serde_json::Value::as_f64)
        .is_some_and(|i| i <= 0.0);
    if !non_positive {
        return content.to_owned();
    }
    body.remove("interval");
    warning.call_once(|| {
        log::warn!(
            "Authlete issued auth_req_ids with interval <= 0; the gateway removes it from \
             acknowledgements. Set the service's backchannelPollingInterval to at least 1."
        );
    });
    serde_json::Value::Object(body).to_string()
}

fn json_id(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
