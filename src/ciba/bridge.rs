//! The authentication-device bridge (SPEC §4 step 6, §5): every issued request gets a decision
//! token, is listed for the console or sent to the device webhook, and is never left hanging —
//! ping and push requests are failed by the gateway at their deadline, poll requests are
//! cancelled at expiry (both in `deadline`).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;

use super::background::Background;
use super::decision::DecisionKeys;
use super::device::IssuedRequest;
use super::pending::PendingGuard;
use super::poll::PollControl;
use super::registry::{Entry, Registry};
use super::DeliveryMode;
use crate::clock::SharedClock;
use crate::config::{DeviceChannel, Settings};
use crate::directory::Directory;
use crate::metrics::Metrics;
use crate::outbox::{Outbox, WebhookMessage};
use crate::state::{Deadlines as _, State};

/// Everything the bridge and its background jobs share.
pub struct Bridge {
    pub keys: DecisionKeys,
    pub registry: Registry,
    /// Completion claims and, with `redis`, the shared deadlines.
    pub state: Arc<State>,
    pub pending: Arc<PendingGuard>,
    pub poll: Arc<PollControl>,
    pub outbox: Arc<Outbox>,
    pub background: Background,
    pub metrics: Metrics,
    pub clock: SharedClock,
    pub directory: Arc<Directory>,
    /// `authlete.retry_after_secs`, for decisions refused before calling Authlete.
    pub retry_after_secs: u64,
    channel: DeviceChannel,
    decision_url: String,
    timeout_ratio: f64,
    /// The tickets of the shared deadlines this replica runs, handed back at shutdown.
    held_deadlines: Mutex<HashSet<String>>,
}

/// The parts of a bridge that are built elsewhere.
pub struct BridgeParts {
    pub keys: DecisionKeys,
    pub state: Arc<State>,
    pub pending: Arc<PendingGuard>,
    pub poll: Arc<PollControl>,
    pub outbox: Arc<Outbox>,
    pub background: Background,
    pub metrics: Metrics,
    pub clock: SharedClock,
    pub directory: Arc<Directory>,
}

impl Bridge {
    pub fn new(settings: &Settings, parts: BridgeParts) -> Self {
        Self {
            registry: Registry::new(parts.state.clone(), parts.metrics.pending_requests.clone()),
            state: parts.state,
            keys: parts.keys,
            pending: parts.pending,
            poll: parts.poll,
            outbox: parts.outbox,
            background: parts.background,
            metrics: parts.metrics,
            clock: parts.clock,
            directory: parts.directory,
            retry_after_secs: settings.authlete.retry_after.as_secs(),
            channel: settings.device.channel,
            decision_url: format!("{}/device/decisions", settings.public_base()),
            timeout_ratio: settings.device.timeout_ratio,
            held_deadlines: Mutex::default(),
        }
    }

    /// Starts running the fleet's deadlines on this replica, where the backend shares them.
    pub fn start_deadlines(self: &Arc<Self>) {
        if self.state.shares_deadlines() {
            super::deadline::sweep(self.clone());
        }
    }

    /// Records that this replica runs (`true`) or no longer runs the deadline of `ticket`.
    pub(super) fn holding(&self, ticket: &str, held: bool) {
        let mut tickets = self
            .held_deadlines
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if held {
            tickets.insert(ticket.to_owned());
        } else {
            tickets.remove(ticket);
        }
    }

    /// At shutdown, after the background work drained: the deadlines this replica still
    /// holds are due again at once, for the rest of the fleet (SPEC §12 "Shutdown").
    pub async fn hand_back(&self) {
        let tickets: Vec<String> = {
            let mut held = self
                .held_deadlines
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            held.drain().collect()
        };
        for ticket in tickets {
            if let Err(e) = self.state.postpone(&ticket, Duration::ZERO).await {
                log::warn!(
                    "a deadline was not handed back; it waits for its lease to run out: {e}"
                );
            }
        }
    }

    pub(super) fn is_webhook(&self) -> bool {
        self.channel == DeviceChannel::Webhook
    }

    /// Sends `{"type": "cancelled"}` to the device webhook, once, best effort.
    pub(super) fn cancel(&self, entry: &Entry) {
        if !self.is_webhook() {
            return;
        }
        self.outbox.send_webhook(WebhookMessage {
            id: format!("{}.cancelled", entry.ciba_request_id),
            body: json!({"type": "cancelled", "request_id": entry.ciba_request_id}).to_string(),
            deadline: unix(entry.request.claims.expires_at + super::decision::EXPIRY_GRACE_SECS),
            request_id: entry.request.request_id.clone(),
        });
    }

    /// A decision was applied (here or elsewhere): the request leaves the lists, and its next
    /// poll goes straight to Authlete, since the result is ready (SPEC §3.2). When the backend
    /// cannot remove it, it stays listed until its expiry (a decision then gets 409).
    pub async fn settle(&self, ticket: &str) -> Option<Entry> {
        let entry = match self.registry.remove_ticket(ticket).await {
            Ok(entry) => entry?,
            Err(e) => {
                log::warn!("a decided request stays listed until its expiry: {e}");
                return None;
            }
        };
        let key = &entry.request.auth_req_id_key;
        self.pending
            .release(&entry.request.claims.subject, key)
            .await;
        self.poll.forget(key).await;
        Some(entry)
    }

    /// The webhook's `authentication_request` message: the entry as the device sees it.
    pub(super) fn authentication_request(&self, entry: &Entry) -> String {
        let mut body = entry.device_view();
        body.insert("type".into(), "authentication_request".into());
        body.insert("decision_url".into(), self.decision_url.clone().into());
        serde_json::Value::Object(body).to_string()
    }

    /// How long after its issue the gateway itself ends an undecided request (SPEC §5.3): a
    /// ping/push request at `timeout_ratio` of its lifetime — brought forward when the fleet
    /// shares deadlines, so that another replica can still take it over before expiry — and a
    /// poll request at its expiry.
    pub(super) fn deadline_after(&self, request: &IssuedRequest) -> Duration {
        let c = &request.claims;
        let lifetime = Duration::from_secs(c.expires_at.saturating_sub(c.issued_at));
        if !c.delivery_mode.is_some_and(DeliveryMode::notifies) {
            return lifetime;
        }
        let ratio = lifetime.mul_f64(self.timeout_ratio);
        if !self.state.shares_deadlines() {
            return ratio;
        }
        let room = lifetime.saturating_sub(self.state.lease() * 2);
        ratio.min(room.max(lifetime / 2))
    }
}

pub(super) fn unix(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}
