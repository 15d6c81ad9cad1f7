//! Reliable outbound delivery: client ping/push notifications (SPEC §6) and the device webhook
//! channel's messages (SPEC §5.2).
//!
//! Callers on any thread hand messages to the `Outbox`; a dedicated thread (`worker`) delivers
//! them with retries, an SSRF guard for client endpoints (`target`, `address`) and explicit
//! bounds: queue places (`queue`), requests in flight (`limits`), per-attempt timeouts and
//! backoff caps (`crate::backoff`). SIGTERM drains it (SPEC §11); a crash loses what is queued.
//!
//! Expiries and the waits between attempts run on the injected clock; only the network's own
//! timeouts (an attempt, the drain) are real time.

mod address;
mod http;
mod limits;
mod notify;
mod queue;
mod target;
mod thread;
mod webhook;
mod webhook_target;
mod worker;

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc::{self, UnboundedSender};

use crate::clock::SharedClock;
use crate::config::{Secret, Settings};
use crate::metrics::Metrics;
use address::AddressPolicy;
use queue::{Place, Queue};
use thread::Job;
use worker::WorkerConfig;

/// Webhook messages waiting or being retried at once. Messages are small; the bound only stops
/// an unreachable receiver from growing memory without limit while requests keep coming.
const WEBHOOK_QUEUE_CAPACITY: usize = 10_000;

/// How a client asked to be notified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationMode {
    Ping,
    Push,
}

/// A notification to deliver, built from Authlete's `/complete` answer.
#[derive(Clone)]
pub struct Notification {
    pub mode: NotificationMode,
    /// `clientNotificationEndpoint`.
    pub endpoint: String,
    /// `clientNotificationToken`, sent as `Authorization: Bearer`.
    pub token: Secret,
    /// `responseContent`, sent verbatim as `application/json`; never logged.
    pub body: String,
    /// Only its SHA-256 prefix is logged.
    pub auth_req_id: String,
    /// Retries stop here.
    pub expires_at: SystemTime,
    /// The `X-Request-Id` of the decision, for logs.
    pub request_id: String,
}

/// A device webhook message; the body is built by the caller.
#[derive(Clone)]
pub struct WebhookMessage {
    /// The `webhook-id` header.
    pub id: String,
    pub body: String,
    /// Retries stop here.
    pub deadline: SystemTime,
    pub request_id: String,
}

// Bodies carry tokens (push mode) and decision tokens (webhook), and the auth_req_id is a
// credential: `Debug` leaves them out so that no debug print can log them.
impl fmt::Debug for Notification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notification")
            .field("mode", &self.mode)
            .field("expires_at", &self.expires_at)
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for WebhookMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookMessage")
            .field("id", &self.id)
            .field("deadline", &self.deadline)
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

/// The process's outbound delivery queue. Built once, shared by every worker.
pub struct Outbox {
    jobs: UnboundedSender<Job>,
    notifications: Arc<Queue>,
    webhooks: Arc<Queue>,
    webhook_configured: bool,
    closing: AtomicBool,
    metrics: Metrics,
}

/// One held place in the notification queue; dropping it unused gives the place back.
pub struct NotificationPlace {
    place: Place,
    jobs: UnboundedSender<Job>,
    metrics: Metrics,
}

impl NotificationPlace {
    /// Queues `notification` in the place held.
    pub fn send(self, notification: Notification) {
        let mode = notification.mode.label();
        let request_id = notification.request_id.clone();
        let auth_req_id = notify::fingerprint(&notification.auth_req_id);
        if self
            .jobs
            .send(Job::Notify(notification, self.place))
            .is_err()
        {
            self.metrics
                .notifications
                .with_label_values(&[mode, "failed"])
                .inc();
            log::error!(
                "request_id={request_id} {mode} notification (auth_req_id sha256 {auth_req_id}) \
                 lost: the outbox thread has stopped"
            );
        }
    }
}

impl Outbox {
    /// Builds the queues and starts the delivery thread. Logs every relaxation of the SSRF guard
    /// and of TLS as a warning.
    pub fn new(
        settings: &Settings,
        metrics: Metrics,
        clock: SharedClock,
    ) -> Result<Arc<Self>, String> {
        let n = &settings.notifications;
        warn_relaxations(settings);
        let extra_roots = match &n.ca_file {
            Some(path) if !path.is_empty() => crate::tls::read_ca_certs(path)
                .map_err(|e| format!("notifications.ca_file: {e}"))?,
            _ => Vec::new(),
        };
        let config = WorkerConfig {
            metrics: metrics.clone(),
            clock,
            policy: AddressPolicy::new(n.allowed_networks.clone(), n.allow_private_networks),
            notification_tls: Arc::new(crate::tls::client_config(&extra_roots)?),
            attempt_timeout: n.timeout,
            max_backoff: n.max_backoff,
            allow_insecure_http: n.allow_insecure_http,
            max_in_flight: n.max_in_flight.max(1),
            max_in_flight_per_host: n.max_in_flight_per_host.max(1),
            webhook: webhook_target::WebhookTarget::from_settings(settings)?,
        };
        let webhook_configured = config.webhook.is_some();
        let (jobs, receiver) = mpsc::unbounded_channel();
        thread::spawn(config, receiver)?;
        Ok(Arc::new(Self {
            // The channel itself is unbounded: its length is bounded by the queues' places.
            jobs,
            notifications: Queue::new(n.queue_capacity),
            webhooks: Queue::new(WEBHOOK_QUEUE_CAPACITY),
            webhook_configured,
            closing: AtomicBool::new(false),
            metrics,
        }))
    }

    /// Holds one place in the notification queue, before `/complete` is called (SPEC §5.3).
    /// None when the queue is full or shutting down.
    pub fn reserve(&self) -> Option<NotificationPlace> {
        if self.closing.load(Ordering::SeqCst) {
            return None;
        }
        Some(NotificationPlace {
            place: self.notifications.try_hold()?,
            jobs: self.jobs.clone(),
            metrics: self.metrics.clone(),
        })
    }

    /// Queues a device webhook message, best effort: a full queue, a shutdown or a missing
    /// `device.webhook` drops it with a warning.
    pub fn send_webhook(&self, message: WebhookMessage) {
        let request_id = message.request_id.clone();
        let refusal = if !self.webhook_configured {
            "the webhook channel is not configured"
        } else if self.closing.load(Ordering::SeqCst) {
            "the gateway is shutting down"
        } else if let Some(place) = self.webhooks.try_hold() {
            let id = message.id.clone();
            match self.jobs.send(Job::Webhook(message, place)) {
                Ok(()) => return,
                Err(_) => {
                    log::error!(
                        "request_id={request_id} webhook {id} lost: the outbox has stopped"
                    );
                    return;
                }
            }
        } else {
            "the webhook queue is full"
        };
        log::warn!(
            "request_id={request_id} webhook {} dropped: {refusal}",
            message.id
        );
    }

    /// Stops accepting, then waits until everything queued or in flight (and every reserved
    /// place) is done, or `timeout` has passed.
    pub async fn drain(&self, timeout: Duration) {
        self.closing.store(true, Ordering::SeqCst);
        let idle = async {
            self.notifications.idle().await;
            self.webhooks.idle().await;
        };
        if actix_rt::time::timeout(timeout, idle).await.is_err() {
            log::warn!(
                "shutdown: {} notifications and {} webhook messages still undelivered after \
                 {timeout:?}; they are abandoned",
                self.notifications.held(),
                self.webhooks.held()
            );
        }
    }
}

/// SPEC §6: each relaxation in effect is logged as a warning at start.
fn warn_relaxations(settings: &Settings) {
    let n = &settings.notifications;
    if n.allow_private_networks {
        log::warn!(
            "notifications.allow_private_networks = true: client notifications may reach any \
             internal address (SSRF guard off)"
        );
    } else if !n.allowed_networks.is_empty() {
        log::warn!(
            "notifications.allowed_networks = {:?}: client notifications may reach these \
             internal networks",
            n.allowed_networks
        );
    }
    if n.allow_insecure_http {
        log::warn!(
            "notifications.allow_insecure_http = true: notification tokens and bodies may travel \
             unencrypted"
        );
    }
    if let Some(path) = n.ca_file.as_deref().filter(|p| !p.is_empty()) {
        log::warn!("notifications.ca_file = {path}: its CAs are trusted for client endpoints");
    }
}
