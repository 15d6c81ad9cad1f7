//! The authentication-device bridge (SPEC §4 step 6, §5): every issued request gets a decision
//! token, is listed for the console or sent to the device webhook, and is never left hanging —
//! ping and push requests are failed by the gateway at their deadline, poll requests are
//! cancelled at expiry (both in `deadline`).

use std::sync::Arc;
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
use crate::state::State;

/// Everything the bridge and its background jobs share.
pub struct Bridge {
    pub keys: DecisionKeys,
    pub registry: Registry,
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
            registry: Registry::new(parts.state, parts.metrics.pending_requests.clone()),
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

    /// When the gateway itself ends an undecided request: the ping/push deadline, or expiry.
    pub(super) fn deadline_secs(&self, request: &IssuedRequest) -> u64 {
        let lifetime = request
            .claims
            .expires_at
            .saturating_sub(request.claims.issued_at);
        if request
            .claims
            .delivery_mode
            .is_some_and(DeliveryMode::notifies)
        {
            (lifetime as f64 * self.timeout_ratio).floor() as u64
        } else {
            lifetime
        }
    }
}

pub(super) fn unix(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}
