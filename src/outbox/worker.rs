//! What every delivery on the outbox thread shares: its settings, its awc clients and its
//! in-flight limits.

use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use super::address::AddressPolicy;
use super::limits::Limits;
use super::webhook_target::WebhookTarget;
use crate::clock::SharedClock;
use crate::metrics::Metrics;

/// Everything the thread needs, built by `Outbox::new` on the caller's thread.
pub(super) struct WorkerConfig {
    pub metrics: Metrics,
    pub clock: SharedClock,
    pub policy: AddressPolicy,
    pub notification_tls: Arc<rustls::ClientConfig>,
    pub attempt_timeout: Duration,
    /// Cap of every backoff wait, notifications and webhook messages alike.
    pub max_backoff: Duration,
    pub allow_insecure_http: bool,
    pub max_in_flight: usize,
    pub max_in_flight_per_host: usize,
    pub webhook: Option<WebhookTarget>,
    /// Delivery attempts are spans of the request's trace when spans are recorded.
    pub tracer: Option<crate::telemetry::Tracer>,
    /// Set when a shutdown gave up on what the in-process queues hold and counted it
    /// `abandoned`: an outcome reached afterwards is logged but not counted a second time.
    pub gave_up: Arc<AtomicBool>,
}

impl WorkerConfig {
    /// Whether a final outcome should still be counted (see `gave_up`).
    pub fn counts_outcomes(&self) -> bool {
        !self.gave_up.load(Ordering::SeqCst)
    }
}

/// The thread's shared state.
pub(super) struct Worker {
    pub config: WorkerConfig,
    pub notifications: awc::Client,
    pub webhooks: Option<awc::Client>,
    pub limits: Rc<Limits>,
    pub webhook_in_flight: Semaphore,
}
