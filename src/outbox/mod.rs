//! Reliable outbound delivery: client ping/push notifications (SPEC §6) and the device webhook
//! channel's messages (SPEC §5.2).
//!
//! Callers on any thread hand messages to the `Outbox`; a dedicated thread (`worker`) delivers
//! them with retries, an SSRF guard for client endpoints (`target`, `address`) and explicit
//! bounds: queue places (`queue`), requests in flight (`limits`), per-attempt timeouts and
//! backoff caps (`crate::backoff`). Each attempt is one unit (`attempt`) that two loops run:
//! with the `memory` backend the thread's in-process loop (a crash loses what is queued; SIGTERM
//! drains it, SPEC §11); with `redis` the fleet's outbox (`shared`, SPEC §12), where every
//! message is stored before anyone is told it was accepted and any replica delivers it.
//!
//! Expiries and the waits between attempts run on the injected clock; only the network's own
//! timeouts (an attempt, the drain) are real time.

mod address;
mod attempt;
mod holdings;
mod http;
mod limits;
mod message;
mod notify;
mod place;
mod queue;
mod shared;
mod target;
mod thread;
mod webhook;
mod webhook_target;
mod worker;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::{self, UnboundedSender};
use tokio::sync::watch;

use crate::clock::SharedClock;
use crate::config::Settings;
use crate::metrics::Metrics;
use crate::state::{OutboxKind, OutboxStore, SharedOutbox, StateError};
use address::AddressPolicy;
use attempt::Message;
use holdings::Holdings;
use queue::Queue;
use shared::Fleet;
use thread::Job;
use worker::WorkerConfig;

pub use message::{Notification, NotificationMode, WebhookMessage, WebhookType};
pub use place::NotificationPlace;

/// Webhook messages waiting or being retried at once. Messages are small; the bound only stops
/// an unreachable receiver from growing memory without limit while requests keep coming.
const WEBHOOK_QUEUE_CAPACITY: usize = 10_000;

/// The process's outbound delivery queue. Built once, shared by every worker.
pub struct Outbox {
    jobs: UnboundedSender<Job>,
    notifications: Arc<Queue>,
    webhooks: Arc<Queue>,
    webhook_configured: bool,
    closing: AtomicBool,
    /// Shared with the delivery thread: see `WorkerConfig::gave_up`.
    gave_up: Arc<AtomicBool>,
    metrics: Metrics,
    clock: SharedClock,
    /// With `redis`: the fleet's outbox, this replica's leases on it, and the switch that
    /// stops its claim loop.
    fleet: Option<FleetHandle>,
}

struct FleetHandle {
    store: SharedOutbox,
    holdings: Arc<Holdings>,
    stop: watch::Sender<bool>,
}

impl Outbox {
    /// Builds the queues and starts the delivery thread; with `shared` (the `redis` backend)
    /// the thread also claims from the fleet's outbox. Logs every relaxation of the SSRF guard
    /// and of TLS as a warning.
    pub fn new(
        settings: &Settings,
        metrics: Metrics,
        clock: SharedClock,
        shared: Option<SharedOutbox>,
        tracer: Option<crate::telemetry::Tracer>,
    ) -> Result<Arc<Self>, String> {
        let n = &settings.notifications;
        warn_relaxations(settings);
        let extra_roots = match &n.ca_file {
            Some(path) if !path.is_empty() => crate::tls::read_ca_certs(path)
                .map_err(|e| format!("notifications.ca_file: {e}"))?,
            _ => Vec::new(),
        };
        let gave_up = Arc::new(AtomicBool::new(false));
        let config = WorkerConfig {
            gave_up: gave_up.clone(),
            metrics: metrics.clone(),
            clock: clock.clone(),
            policy: AddressPolicy::new(n.allowed_networks.clone(), n.allow_private_networks),
            notification_tls: Arc::new(crate::tls::client_config(&extra_roots)?),
            attempt_timeout: n.timeout,
            max_backoff: n.max_backoff,
            allow_insecure_http: n.allow_insecure_http,
            max_in_flight: n.max_in_flight.max(1),
            max_in_flight_per_host: n.max_in_flight_per_host.max(1),
            webhook: webhook_target::WebhookTarget::from_settings(settings)?,
            tracer,
        };
        let webhook_configured = config.webhook.is_some();
        let fleet = shared.map(|store| FleetHandle {
            store,
            holdings: Arc::new(Holdings::new()),
            stop: watch::Sender::new(false),
        });
        let thread_fleet = fleet.as_ref().map(|f| Fleet {
            store: f.store.clone(),
            holdings: f.holdings.clone(),
            lease: settings.state.redis.lease,
            stopping: f.stop.subscribe(),
        });
        let (jobs, receiver) = mpsc::unbounded_channel();
        thread::spawn(config, receiver, thread_fleet)?;
        // With `redis` the depth is the fleet's, set by the claim loop.
        let depth = |kind: OutboxKind| {
            let gauge = metrics.outbox_depth.with_label_values(&[kind.label()]);
            fleet.is_none().then_some(gauge)
        };
        Ok(Arc::new(Self {
            // The channel itself is unbounded: its length is bounded by the queues' places.
            jobs,
            notifications: Queue::new(n.queue_capacity, depth(OutboxKind::Notification)),
            webhooks: Queue::new(WEBHOOK_QUEUE_CAPACITY, depth(OutboxKind::Webhook)),
            webhook_configured,
            closing: AtomicBool::new(false),
            gave_up,
            metrics,
            clock,
            fleet,
        }))
    }

    /// Holds one place in the notification queue, before `/complete` is called (SPEC §5.3):
    /// with `redis`, in the fleet's outbox too. None when the queue is full, the fleet's
    /// outbox is full or unreachable, or the gateway is shutting down.
    pub async fn reserve(self: &Arc<Self>) -> Option<NotificationPlace> {
        if self.closing.load(Ordering::SeqCst) {
            return None;
        }
        let place = self.notifications.try_hold()?;
        let reservation = match &self.fleet {
            None => None,
            Some(fleet) => match fleet.store.reserve_place(OutboxKind::Notification).await {
                Ok(Some(reservation)) => Some((fleet.store.clone(), reservation)),
                Ok(None) => {
                    log::warn!("the fleet's notification outbox is full: decision refused");
                    return None;
                }
                Err(e) => {
                    log::warn!("no notification outbox place: {e}");
                    return None;
                }
            },
        };
        Some(NotificationPlace {
            place: Some(place),
            reservation,
            outbox: Arc::clone(self),
        })
    }

    /// Whether the notification of the request with `ticket` is stored in the fleet's outbox
    /// (queued or being delivered), to tell a notification lost in the window of SPEC §12
    /// from one already queued. With `memory` no other replica exists to ask for it: false.
    pub async fn holds_notification(&self, ticket: &str) -> Result<bool, StateError> {
        match &self.fleet {
            Some(fleet) => fleet.store.holds_notification(ticket).await,
            None => Ok(false),
        }
    }

    /// Stores a device webhook message before the request it announces is acknowledged
    /// (SPEC §12 "Issue"). With `redis` an error means it is not stored: the client must get
    /// 503. With `memory`, as `send_webhook`.
    pub async fn store_webhook(&self, message: WebhookMessage) -> Result<(), StateError> {
        let Some(fleet) = self.fleet.as_ref().filter(|_| self.webhook_configured) else {
            self.send_webhook(message);
            return Ok(());
        };
        let kind = OutboxKind::Webhook;
        let id = fleet.store.message_id(kind, &message.id);
        let stored = fleet
            .store
            .enqueue(kind, &id, &message.to_bytes(), message.deadline, None)
            .await?;
        if stored {
            Ok(())
        } else {
            Err(StateError::Unavailable("the webhook outbox is full".into()))
        }
    }

    /// Queues a device webhook message, best effort: a full queue, a shutdown or a missing
    /// `device.webhook` drops it with a warning. With `redis` it goes to the fleet's outbox,
    /// or is delivered from here when that fails, holding its in-process place meanwhile.
    pub fn send_webhook(&self, message: WebhookMessage) {
        let request_id = message.request_id.clone();
        let (refusal, outcome) = if !self.webhook_configured {
            ("the webhook channel is not configured", None)
        } else if self.closing.load(Ordering::SeqCst) {
            ("the gateway is shutting down", Some("abandoned"))
        } else if let Some(mut place) = self.webhooks.try_hold() {
            place.hold_message(message.kind.label());
            let id = message.id.clone();
            let job = match self.fleet {
                Some(_) => Job::StoreWebhook(message, place),
                None => Job::Webhook(message, place),
            };
            if self.jobs.send(job).is_err() {
                log::error!(
                    request_id = request_id; "webhook {id} lost: the outbox has stopped"
                );
            }
            return;
        } else {
            ("the webhook queue is full", Some("failed"))
        };
        if let Some(outcome) = outcome {
            let metric = &self.metrics.webhook_messages;
            metric
                .with_label_values(&[message.kind.label(), outcome])
                .inc();
        }
        log::warn!(
            request_id = request_id; "webhook {} dropped: {refusal}",
            message.id
        );
    }

    /// Stops accepting, then waits until everything queued or in flight (and every reserved
    /// place) is done, or `timeout` has passed. With `redis` it stops claiming, lets the
    /// attempts in flight end within half of `timeout`, and hands back what this replica still
    /// holds, so the fleet need not wait for the leases (SPEC §12 "Shutdown").
    pub async fn drain(&self, timeout: Duration) {
        self.closing.store(true, Ordering::SeqCst);
        if let Some(fleet) = &self.fleet {
            return self.drain_fleet(fleet, timeout).await;
        }
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
            self.count_abandoned();
        }
    }

    /// Counts what the in-process queues still hold as `abandoned`, once, as the drain gives up;
    /// the deliveries still running stop counting their outcomes first.
    fn count_abandoned(&self) {
        self.gave_up.store(true, Ordering::SeqCst);
        for (mode, n) in self.notifications.held_by_label() {
            let metric = self
                .metrics
                .notifications
                .with_label_values(&[mode, "abandoned"]);
            metric.inc_by(n as u64);
        }
        for (kind, n) in self.webhooks.held_by_label() {
            let metric = self
                .metrics
                .webhook_messages
                .with_label_values(&[kind, "abandoned"]);
            metric.inc_by(n as u64);
        }
    }

    async fn drain_fleet(&self, fleet: &FleetHandle, timeout: Duration) {
        fleet.stop.send_replace(true);
        let in_flight = async {
            fleet.holdings.idle().await;
            self.notifications.idle().await;
            self.webhooks.idle().await;
        };
        let _ = actix_rt::time::timeout(timeout / 2, in_flight).await;
        for kind in OutboxKind::ALL {
            let held = fleet.holdings.ids(kind);
            match fleet.store.hand_back(kind, &held).await {
                Ok(0) => {}
                Ok(given) => log::info!("shutdown: {given} {} messages handed back", kind.label()),
                Err(e) => log::warn!(
                    "shutdown: {} {} messages not handed back ({e}); another replica takes \
                     them when their leases end",
                    held.len(),
                    kind.label()
                ),
            }
        }
        let (notifications, webhooks) = (self.notifications.held(), self.webhooks.held());
        if notifications + webhooks > 0 {
            log::warn!(
                "shutdown: {notifications} notifications and {webhooks} webhook messages that \
                 Redis did not take are still undelivered; they are abandoned"
            );
            self.count_abandoned();
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
