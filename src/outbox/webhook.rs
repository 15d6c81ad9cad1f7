//! The authentication-device webhook channel's transport (SPEC §5.2): Standard Webhooks
//! signatures, re-signed with a fresh timestamp on every attempt, retried until the message's
//! deadline.

use std::rc::Rc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use awc::http::header::{self, HeaderValue};
use serde::{Deserialize, Serialize};

use super::attempt::{deliver_here, InFlightGauge, Message, Next, Progress};
use super::http::{answered, describe, post, NoAnswer};
use super::queue::Place;
use super::webhook_target::WebhookTarget;
use super::worker::Worker;
use super::{WebhookMessage, WebhookType};
use crate::backoff::{backoff, next_wait};
use crate::outbound::{Reply, StatusClass};
use crate::state::OutboxKind;

/// How a webhook message's delivery ended.
pub(super) enum Ended {
    Accepted,
    /// Not accepted before its deadline.
    GaveUp,
    /// Never attempted, for this reason.
    Dropped(&'static str),
}

/// A webhook message as the fleet's outbox stores it (sealed whole by the backend).
#[derive(Serialize, Deserialize)]
struct Stored {
    kind: WebhookType,
    id: String,
    body: String,
    deadline_ms: u64,
    request_id: String,
    /// Absent from messages stored before traces were kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    traceparent: Option<String>,
}

impl Message for WebhookMessage {
    type End = Ended;

    const KIND: OutboxKind = OutboxKind::Webhook;

    fn name(&self) -> &str {
        &self.id
    }

    fn expires_at(&self) -> SystemTime {
        self.deadline
    }

    fn request_id(&self) -> &str {
        &self.request_id
    }

    fn traceparent(&self) -> Option<&str> {
        self.traceparent.as_deref()
    }

    fn to_bytes(&self) -> Vec<u8> {
        let deadline = self.deadline.duration_since(UNIX_EPOCH).unwrap_or_default();
        let stored = Stored {
            kind: self.kind,
            id: self.id.clone(),
            body: self.body.clone(),
            deadline_ms: u64::try_from(deadline.as_millis()).unwrap_or(u64::MAX),
            request_id: self.request_id.clone(),
            traceparent: self.traceparent.clone(),
        };
        // Serialising strings and numbers cannot fail.
        serde_json::to_vec(&stored).unwrap_or_default()
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let s: Stored = serde_json::from_slice(bytes).ok()?;
        Some(Self {
            kind: s.kind,
            id: s.id,
            body: s.body,
            deadline: UNIX_EPOCH + Duration::from_millis(s.deadline_ms),
            request_id: s.request_id,
            traceparent: s.traceparent,
        })
    }

    /// One signed POST, unless no webhook is configured or the deadline passed; every non-2xx
    /// answer and failure is retried until the deadline.
    async fn step(&self, worker: &Rc<Worker>, progress: &mut Progress) -> Next<Ended> {
        let (Some(target), Some(client)) = (&worker.config.webhook, &worker.webhooks) else {
            return Next::End(Ended::Dropped("no device webhook is configured"));
        };
        let (Ok(id), Ok(request_id)) = (
            HeaderValue::from_str(&self.id),
            HeaderValue::from_str(&self.request_id),
        ) else {
            return Next::End(Ended::Dropped("webhook id is not a valid header value"));
        };
        let clock = &worker.config.clock;
        if clock.now() >= self.deadline {
            return Next::End(Ended::GaveUp);
        }
        let headers = [("webhook-id", &id), ("X-Request-Id", &request_id)];
        let answer = attempt(worker, client, target, self, headers).await;
        progress.attempts += 1;
        let retry_after = match answer {
            Ok(reply) if reply.class() == StatusClass::Success => {
                return Next::End(Ended::Accepted)
            }
            Ok(reply) => {
                progress.last = describe(&reply);
                reply.retry_after().map(str::to_owned)
            }
            Err(failure) => {
                progress.last = failure.why;
                None
            }
        };
        let wait = backoff(progress.attempts, worker.config.max_backoff);
        let Some(wait) = next_wait(wait, retry_after.as_deref(), clock.now(), self.deadline) else {
            return Next::End(Ended::GaveUp);
        };
        log::debug!(
            request_id = self.request_id; "webhook {} retried ({})",
            self.id,
            progress.last
        );
        Next::Retry(wait)
    }

    fn report(&self, worker: &Worker, progress: &Progress, end: Ended) {
        let request_id = &self.request_id;
        let outcome = match end {
            Ended::Accepted => "delivered",
            Ended::GaveUp | Ended::Dropped(_) => "failed",
        };
        if worker.config.counts_outcomes() {
            let metric = &worker.config.metrics.webhook_messages;
            metric
                .with_label_values(&[self.kind.label(), outcome])
                .inc();
        }
        match end {
            Ended::Accepted => log::debug!(
                request_id = request_id; "webhook {} accepted",
                self.id
            ),
            Ended::GaveUp => log::warn!(
                request_id = request_id; "webhook {} not accepted before its deadline after {} \
            attempts (last: {})",
                self.id,
                progress.attempts,
                progress.last
            ),
            Ended::Dropped(why) => log::warn!(
                request_id = request_id; "{why}; message dropped"
            ),
        }
    }

    fn not_attempted() -> &'static str {
        "deadline passed before the first attempt"
    }
}

/// Delivers one message from this process, retrying until its deadline; `_place` is held
/// until then.
pub(super) async fn deliver(worker: Rc<Worker>, message: WebhookMessage, _place: Place) {
    deliver_here(&worker, &message).await;
}

/// One signed POST, within the webhook's timeout, counted in `gateway_webhook_attempts_total`;
/// waiting for an in-flight place is not part of it.
async fn attempt(
    worker: &Worker,
    client: &awc::Client,
    target: &WebhookTarget,
    message: &WebhookMessage,
    headers: [(&str, &HeaderValue); 2],
) -> Result<Reply, NoAnswer> {
    let _in_flight = worker.webhook_in_flight.acquire().await;
    let _counted = InFlightGauge::enter(worker, OutboxKind::Webhook);
    // Signed now, not when queued: receivers reject stale timestamps (replay protection).
    let timestamp = worker.config.clock.unix_secs();
    let mut request = client
        .post(&target.url)
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .insert_header(("webhook-timestamp", timestamp.to_string()))
        .insert_header((
            "webhook-signature",
            target.signer.sign(&message.id, timestamp, &message.body),
        ));
    for (name, value) in headers {
        request = request.insert_header((name, value.clone()));
    }
    let answer = post(request, message.body.clone(), target.timeout).await;
    let result = match &answer {
        Ok(reply) => answered(reply),
        Err(failure) => failure.result,
    };
    let attempts = &worker.config.metrics.webhook_attempts;
    attempts.with_label_values(&[result]).inc();
    answer
}
