//! One delivery attempt and what it leaves to do: the unit that the in-process loop (`memory`
//! backend, and a message Redis could not store) and the fleet's claim loop (`redis`) both
//! run, so each kind's attempt, classification and final report exist once.

use std::future::Future;
use std::rc::Rc;
use std::time::{Duration, SystemTime};

use prometheus::Gauge;

use super::worker::Worker;
use crate::state::OutboxKind;
use crate::telemetry::{self, Scope, SpanKind, SpanSpec, TraceContext};

/// How far a message's delivery got: attempts made (on any replica, with `redis`) and the last
/// answer, for the final report.
pub(super) struct Progress {
    pub attempts: u32,
    pub last: String,
}

impl Progress {
    pub fn new(attempts: u32, last: &str) -> Self {
        Self {
            attempts,
            last: last.to_owned(),
        }
    }
}

/// What an attempt left to do.
pub(super) enum Next<E> {
    /// Delivery ended: report `E`, once.
    End(E),
    /// Try again after this wait (backoff, or the receiver's `Retry-After`).
    Retry(Duration),
}

/// A message the outbox delivers: notifications (SPEC §6) and webhook messages (SPEC §5.2).
pub(super) trait Message: Sized + 'static {
    /// The final outcome, reported once.
    type End;

    const KIND: OutboxKind;

    /// The name its outbox id is derived from (the ticket, the `webhook-id`).
    fn name(&self) -> &str;

    /// Retries stop here.
    fn expires_at(&self) -> SystemTime;

    /// The `X-Request-Id` of the request that made it, for logs.
    fn request_id(&self) -> &str;

    /// The trace the request that made it belongs to, if any.
    fn traceparent(&self) -> Option<&str>;

    /// The message as the fleet's outbox stores it (sealed by the backend).
    fn to_bytes(&self) -> Vec<u8>;

    fn from_bytes(bytes: &[u8]) -> Option<Self>;

    /// One attempt, or the end when there is nothing left to try.
    fn step(
        &self,
        worker: &Rc<Worker>,
        progress: &mut Progress,
    ) -> impl Future<Output = Next<Self::End>>;

    /// Logs and counts the final outcome.
    fn report(&self, worker: &Worker, progress: &Progress, end: Self::End);

    /// How a delivery reads before its first attempt.
    fn not_attempted() -> &'static str;
}

/// Runs one attempt in the trace of the request that made `message` (SPEC §13), so that its
/// logs name that trace and its POST carries it on.
pub(super) async fn traced<M: Message, T>(
    worker: &Worker,
    message: &M,
    attempt: impl Future<Output = T>,
) -> T {
    let Some(parent) = message.traceparent().and_then(TraceContext::parse) else {
        return attempt.await;
    };
    let scope = Scope {
        trace: parent,
        request_id: Some(message.request_id().to_owned()),
        tracer: worker.config.tracer.clone(),
        notes: None,
    };
    let spec = || SpanSpec {
        name: format!("{} attempt", M::KIND.label()).into(),
        kind: SpanKind::Client,
        attributes: Vec::new(),
        links: Vec::new(),
    };
    // Boxed first: the attempt holds a whole HTTP exchange, which each wrapper would
    // otherwise copy whole as it is built.
    let attempt = Box::pin(attempt);
    telemetry::scope(scope, telemetry::in_span(spec, attempt, |_| Vec::new())).await
}

/// Delivers `message` from this process: attempts until one ends it, waiting between them on
/// the injected clock.
pub(super) async fn deliver_here<M: Message>(worker: &Rc<Worker>, message: &M) {
    let mut progress = Progress::new(0, M::not_attempted());
    loop {
        match traced(worker, message, message.step(worker, &mut progress)).await {
            Next::End(end) => return message.report(worker, &progress, end),
            Next::Retry(wait) => pause(worker, wait).await,
        }
    }
}

/// Waits `wait` on the injected clock.
pub(super) async fn pause(worker: &Worker, wait: Duration) {
    let clock = &worker.config.clock;
    clock.sleep_until(clock.instant() + wait).await;
}

/// Counts a request in flight in `gateway_outbox_in_flight` while it lives.
pub(super) struct InFlightGauge(Gauge);

impl InFlightGauge {
    pub fn enter(worker: &Worker, kind: OutboxKind) -> Self {
        let gauge = worker
            .config
            .metrics
            .outbox_in_flight
            .with_label_values(&[kind.label()]);
        gauge.inc();
        Self(gauge)
    }
}

impl Drop for InFlightGauge {
    fn drop(&mut self) {
        self.0.dec();
    }
}
