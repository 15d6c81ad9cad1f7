//! Client notification delivery (SPEC §6): one attempt at a time, to the final outcome,
//! `delivered`, `failed` or `blocked`, logged and counted once.

mod stored;

use std::rc::Rc;
use std::time::SystemTime;

use awc::http::header::{self, HeaderValue};
use sha2::{Digest, Sha256};

use super::attempt::{deliver_here, InFlightGauge, Message, Next, Progress};
use super::http::{answered, describe, post};
use super::queue::Place;
use super::target::{Endpoint, Refusal, Vetting};
use super::worker::Worker;
use super::{Notification, NotificationMode};
use crate::backoff::{backoff, next_wait};
use crate::outbound::Reply;
use crate::state::OutboxKind;

/// How one attempt ended.
enum Attempt {
    Delivered,
    /// Every address of the endpoint is one the SSRF guard refuses.
    Blocked,
    /// A redirect or a 4xx other than 408/429: trying again would get the same answer.
    Permanent(String),
    /// Worth another try; with the receiver's `Retry-After` when it sent one.
    Retry(String, Option<String>),
}

/// The first bytes of the auth_req_id's SHA-256: enough to find the request in Authlete's logs,
/// nothing a reader could use.
pub(super) fn fingerprint(auth_req_id: &str) -> String {
    hex::encode(&Sha256::digest(auth_req_id.as_bytes())[..8])
}

impl Message for Notification {
    type End = Ended;

    const KIND: OutboxKind = OutboxKind::Notification;

    fn name(&self) -> &str {
        &self.ticket
    }

    fn expires_at(&self) -> SystemTime {
        self.expires_at
    }

    fn request_id(&self) -> &str {
        &self.request_id
    }

    fn traceparent(&self) -> Option<&str> {
        self.traceparent.as_deref()
    }

    fn to_bytes(&self) -> Vec<u8> {
        stored::Stored::from(self).to_bytes()
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        stored::Stored::from_bytes(bytes)
    }

    /// One attempt, unless the endpoint is refused or the notification expired.
    async fn step(&self, worker: &Rc<Worker>, progress: &mut Progress) -> Next<Ended> {
        let n = self;
        let endpoint = match Endpoint::parse(&n.endpoint, worker.config.allow_insecure_http) {
            Ok(endpoint) => endpoint,
            Err(Refusal::Insecure) => {
                return Next::End(Ended::Blocked(
                    "http endpoint while notifications.allow_insecure_http = false",
                ))
            }
            Err(Refusal::Malformed) => return Next::End(Ended::Failed("malformed endpoint URL")),
        };
        let Ok(mut bearer) = HeaderValue::from_str(&format!("Bearer {}", n.token.expose())) else {
            return Next::End(Ended::Failed("token is not a valid header value"));
        };
        bearer.set_sensitive(true);
        let clock = &worker.config.clock;
        if clock.now() >= n.expires_at {
            return Next::End(Ended::GaveUp);
        }
        let outcome = attempt(worker, &endpoint, n, &bearer, progress.attempts).await;
        progress.attempts += 1;
        let retry_after = match outcome {
            Attempt::Delivered => return Next::End(Ended::Delivered),
            Attempt::Blocked => {
                return Next::End(Ended::Blocked("no address the SSRF guard admits"))
            }
            Attempt::Permanent(last) => {
                progress.last = last;
                return Next::End(Ended::GaveUp);
            }
            Attempt::Retry(status, retry_after) => {
                progress.last = status;
                retry_after
            }
        };
        let wait = backoff(progress.attempts, worker.config.max_backoff);
        let Some(wait) = next_wait(wait, retry_after.as_deref(), clock.now(), n.expires_at) else {
            return Next::End(Ended::GaveUp);
        };
        log::debug!(
            request_id = n.request_id; "notification to {} retried in {wait:?} ({})",
            host(&n.endpoint),
            progress.last
        );
        Next::Retry(wait)
    }

    fn report(&self, worker: &Worker, progress: &Progress, end: Ended) {
        let report = Report::new(worker, self);
        match end {
            Ended::Delivered => report.delivered(progress.attempts),
            Ended::GaveUp => report.failed(progress.attempts, &progress.last),
            Ended::Failed(why) => report.failed(progress.attempts, why),
            Ended::Blocked(why) => report.blocked(why),
        }
    }

    fn not_attempted() -> &'static str {
        "expired before the first attempt"
    }
}

/// How a notification's delivery ended.
pub(super) enum Ended {
    Delivered,
    /// A permanent answer, or retries ran out at expiry: the last answer says which.
    GaveUp,
    /// Refused before any attempt.
    Failed(&'static str),
    /// The SSRF guard or the http rule refused the endpoint.
    Blocked(&'static str),
}

/// Delivers `notification` from this process, retrying until its `expires_at`; `_place` is
/// held until then.
pub(super) async fn deliver(worker: Rc<Worker>, notification: Notification, _place: Place) {
    deliver_here(&worker, &notification).await;
}

/// The endpoint's host: never the path or query, which may carry client data.
fn host(endpoint: &str) -> String {
    url::Url::parse(endpoint)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
        .unwrap_or_else(|| "-".to_owned())
}

/// One attempt, within `notifications.timeout_ms` from name resolution to the last byte read,
/// counted in `gateway_notification_attempts_total` unless the SSRF guard stopped it before any
/// connection. Waiting for an in-flight place is not part of the attempt.
async fn attempt(
    worker: &Rc<Worker>,
    endpoint: &Endpoint,
    n: &Notification,
    bearer: &HeaderValue,
    number: u32,
) -> Attempt {
    let config = &worker.config;
    let _in_flight = worker.limits.enter(endpoint.authority()).await;
    let _counted = InFlightGauge::enter(worker, OutboxKind::Notification);
    let exchange = exchange(worker, endpoint, n, bearer, number);
    let (outcome, result) = actix_rt::time::timeout(config.attempt_timeout, exchange)
        .await
        .unwrap_or_else(|_| (Attempt::Retry("timeout".into(), None), Some("timeout")));
    if let Some(result) = result {
        config
            .metrics
            .notification_attempts
            .with_label_values(&[n.mode.label(), result])
            .inc();
    }
    outcome
}

/// Vets the endpoint's addresses, then POSTs to one of them (a different one each attempt, so
/// one dead address does not take every try). With the attempt's `result` label, or None when
/// the SSRF guard refused every address and nothing was sent.
async fn exchange(
    worker: &Rc<Worker>,
    endpoint: &Endpoint,
    n: &Notification,
    bearer: &HeaderValue,
    number: u32,
) -> (Attempt, Option<&'static str>) {
    let config = &worker.config;
    let addresses = match endpoint.vet(&config.policy).await {
        Ok(addresses) => addresses,
        Err(Vetting::Blocked) => return (Attempt::Blocked, None),
        Err(Vetting::Unresolved(e)) => {
            let why = format!("host name did not resolve: {e}");
            return (Attempt::Retry(why, None), Some("connect_error"));
        }
    };
    let Some(&address) = addresses.get(number as usize % addresses.len()) else {
        return (Attempt::Blocked, None);
    };
    let request = worker
        .notifications
        .post(endpoint.uri())
        .address(address)
        .insert_header((header::AUTHORIZATION, bearer.clone()))
        .insert_header((header::CONTENT_TYPE, "application/json"));
    match post(request, n.body.clone(), config.attempt_timeout).await {
        Ok(reply) => {
            let result = answered(&reply);
            (classify(reply), Some(result))
        }
        Err(failure) => (Attempt::Retry(failure.why, None), Some(failure.result)),
    }
}

fn classify(reply: Reply) -> Attempt {
    match reply.status {
        200..=299 => Attempt::Delivered,
        // RFC 9110 gives Retry-After its meaning on 503, RFC 6585 on 429.
        429 | 503 => Attempt::Retry(describe(&reply), reply.retry_after().map(str::to_owned)),
        408 | 500..=599 => Attempt::Retry(describe(&reply), None),
        _ => Attempt::Permanent(describe(&reply)),
    }
}

/// Logs and counts a notification's final outcome, once, with the time since its enqueue.
struct Report<'a> {
    worker: &'a Worker,
    enqueued_at: SystemTime,
    mode: &'static str,
    request_id: &'a str,
    /// The endpoint's host: never the path or query, which may carry client data.
    host: String,
    auth_req_id: String,
}

impl<'a> Report<'a> {
    fn new(worker: &'a Worker, n: &'a Notification) -> Self {
        Self {
            worker,
            enqueued_at: n.enqueued_at,
            mode: n.mode.label(),
            request_id: &n.request_id,
            host: host(&n.endpoint),
            auth_req_id: fingerprint(&n.auth_req_id),
        }
    }

    fn count(&self, outcome: &str) {
        if !self.worker.config.counts_outcomes() {
            return;
        }
        let metrics = &self.worker.config.metrics;
        let labels = [self.mode];
        metrics
            .notifications
            .with_label_values(&[self.mode, outcome])
            .inc();
        // A clock set back reads as 0, not as a missing observation.
        let now = self.worker.config.clock.now();
        let took = now.duration_since(self.enqueued_at).unwrap_or_default();
        let duration = metrics.notification_duration.with_label_values(&labels);
        duration.observe(took.as_secs_f64());
    }

    fn delivered(self, attempts: u32) {
        self.count("delivered");
        log::info!(
            request_id = self.request_id; "{} notification delivered to {} (auth_req_id sha256 {}, {attempts} \
             attempts)",
            self.mode,
            self.host,
            self.auth_req_id
        );
    }

    fn failed(self, attempts: u32, last: &str) {
        self.count("failed");
        log::warn!(
            request_id = self.request_id; "{} notification to {} failed (auth_req_id sha256 {}, {attempts} \
             attempts, last: {last})",
            self.mode,
            self.host,
            self.auth_req_id
        );
    }

    fn blocked(self, why: &str) {
        self.count("blocked");
        log::warn!(
            request_id = self.request_id; "{} notification to {} refused (auth_req_id sha256 {}): {why}",
            self.mode,
            self.host,
            self.auth_req_id
        );
    }
}

impl NotificationMode {
    /// Every mode, for the metrics exported before the first notification.
    pub const ALL: [NotificationMode; 2] = [NotificationMode::Ping, NotificationMode::Push];

    /// The `mode` label of the notification metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Ping => "ping",
            Self::Push => "push",
        }
    }
}
