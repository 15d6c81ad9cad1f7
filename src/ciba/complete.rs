//! Reporting a decision to Authlete (`/backchannel/authentication/complete`) and handing the
//! resulting ping/push notification to the outbox.

use std::time::{Duration, UNIX_EPOCH};

use super::background::Context;
use super::decision::DecisionClaims;
use super::poll::PollControl;
use super::{request_key, DeliveryMode};
use crate::authlete::dto::{CompleteRequest, CompleteResponse};
use crate::authlete::{Action, Api, AuthleteFailure, UpstreamError};
use crate::config::Secret;

use crate::metrics::Metrics;
use crate::outbox::{Notification, NotificationMode, NotificationPlace};

/// What the device decided (or the gateway, at the deadline).
#[derive(Debug, Clone)]
pub enum Verdict {
    Authorized {
        auth_time: u64,
        acr: Option<String>,
        /// `/complete.claims`: a JSON object as a string.
        claims: Option<String>,
    },
    Denied,
    Failed,
}

impl Verdict {
    fn result(&self) -> &'static str {
        match self {
            Verdict::Authorized { .. } => "AUTHORIZED",
            Verdict::Denied => "ACCESS_DENIED",
            Verdict::Failed => "TRANSACTION_FAILED",
        }
    }
}

/// How `/complete` ended, as SPEC §5.3's outcome table sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `NO_ACTION`, or `NOTIFICATION` handed to the outbox.
    Done,
    /// A196203: someone decided first; or A196201: the ticket is gone, decided and redeemed.
    AlreadyDecided,
    /// A196202: the ticket expired.
    Expired,
    /// Another `SERVER_ERROR`.
    UpstreamError,
    /// Not sent, 429 or 5xx: the decision may be retried.
    Unavailable { retry_after_secs: u64 },
    /// Timed out after sending: Authlete may or may not have applied it.
    Unknown,
    /// Our configuration or Authlete's answer is broken.
    Internal,
}

impl Outcome {
    /// Whether Authlete answered: the request is then complete, whoever completed it.
    pub fn is_answer(&self) -> bool {
        matches!(
            self,
            Outcome::Done | Outcome::AlreadyDecided | Outcome::Expired
        )
    }
}

/// One `/complete` call.
pub struct Completion<'a> {
    pub claims: &'a DecisionClaims,
    pub verdict: &'a Verdict,
    pub request_id: &'a str,
    /// Forgotten before the notification is queued: the client that hears "ready" must not
    /// be told `slow_down` (SPEC §3.2).
    pub poll: &'a PollControl,
}

impl Completion<'_> {
    /// Calls Authlete and enqueues the notification into `place` when it asks for one.
    pub async fn run(
        &self,
        context: &Context,
        place: Option<NotificationPlace>,
        metrics: &Metrics,
    ) -> Outcome {
        let (auth_time, acr, claims) = match self.verdict {
            Verdict::Authorized {
                auth_time,
                acr,
                claims,
            } => (Some(*auth_time), acr.as_deref(), claims.clone()),
            _ => (None, None, None),
        };
        let request = CompleteRequest {
            ticket: &self.claims.ticket,
            result: self.verdict.result(),
            subject: &self.claims.subject,
            auth_time,
            acr,
            claims,
        };
        let answer: CompleteResponse = match context
            .authlete
            .call(Api::Complete, &request, self.request_id)
            .await
        {
            Ok(answer) => answer,
            Err(error) => return outcome_of_failure(&error),
        };
        match answer.action {
            Action::NoAction => Outcome::Done,
            Action::Notification => {
                self.notify(answer, place, metrics).await;
                Outcome::Done
            }
            _ => self.server_error(answer.result_code.as_deref()),
        }
    }

    fn server_error(&self, code: Option<&str>) -> Outcome {
        match code {
            Some("A196203") => Outcome::AlreadyDecided,
            // Authlete deletes the ticket once the decision's tokens are redeemed. The token that
            // named it was opened authentic and unexpired before this call (and the deadline runs
            // before expiry), so a missing ticket means "decided", not a fault worth an alert.
            Some("A196201") => {
                log::info!(
                    request_id = self.request_id; "/complete: the ticket is gone (A196201), the request was \
                     already decided and redeemed"
                );
                Outcome::AlreadyDecided
            }
            Some("A196202") => Outcome::Expired,
            other => {
                log::error!(
                    request_id = self.request_id; "/complete answered SERVER_ERROR (resultCode {other:?})"
                );
                Outcome::UpstreamError
            }
        }
    }

    async fn notify(
        &self,
        answer: CompleteResponse,
        place: Option<NotificationPlace>,
        metrics: &Metrics,
    ) {
        let mode = match answer.delivery_mode {
            Some(DeliveryMode::Push) => NotificationMode::Push,
            _ => NotificationMode::Ping,
        };
        let label = mode.label();
        let parts = (
            place,
            answer.client_notification_endpoint,
            answer.client_notification_token,
            answer.response_content,
        );
        let (Some(place), Some(endpoint), Some(token), Some(body)) = parts else {
            log::error!(
                request_id = self.request_id; "a {label} notification could not be queued (no queue place or \
                 incomplete /complete answer)"
            );
            metrics
                .notifications
                .with_label_values(&[label, "failed"])
                .inc();
            return;
        };
        if let Some(auth_req_id) = &answer.auth_req_id {
            self.poll.forget(&request_key(auth_req_id)).await;
        }
        // Stored before the decision's answer, or delivered from here (SPEC §12).
        place
            .send(Notification {
                mode,
                endpoint,
                token: Secret::new(token),
                body,
                auth_req_id: answer.auth_req_id.unwrap_or_default(),
                ticket: self.claims.ticket.clone(),
                expires_at: UNIX_EPOCH + Duration::from_secs(self.claims.expires_at),
                enqueued_at: UNIX_EPOCH,
                request_id: self.request_id.to_owned(),
                traceparent: crate::telemetry::current().map(|s| s.trace.traceparent()),
            })
            .await;
    }
}

fn outcome_of_failure(failure: &AuthleteFailure) -> Outcome {
    match failure.error {
        UpstreamError::Connect(_) | UpstreamError::Unavailable { .. } => Outcome::Unavailable {
            retry_after_secs: failure.retry_after_secs,
        },
        UpstreamError::Timeout(_) | UpstreamError::Transport(_) => Outcome::Unknown,
        _ => Outcome::Internal,
    }
}
