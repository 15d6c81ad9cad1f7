//! The authentication-device bridge (SPEC §4 step 6, §5): every issued request gets a decision
//! token, is listed for the console or sent to the device webhook, and is never left hanging —
//! ping and push requests are failed by the gateway at their deadline, poll requests are
//! cancelled at expiry (both in `deadline`).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use serde_json::json;

use super::background::Background;
use super::decision::{DecisionClaims, DecisionKeys};
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
            registry: Registry::new(parts.metrics.pending_requests.clone()),
            keys: parts.keys,
            pending: parts.pending,
            poll: parts.poll,
            outbox: parts.outbox,
            background: parts.background,
            metrics: parts.metrics,
            clock: parts.clock,
            directory: parts.directory,
            retry_after_secs: settings.authlete.retry_after_secs,
            channel: settings.device.channel,
            decision_url: format!("{}/device/decisions", settings.public_base()),
            timeout_ratio: settings.device.timeout_ratio,
        }
    }

    fn is_webhook(&self) -> bool {
        self.channel == DeviceChannel::Webhook
    }

    /// Sends `{"type": "cancelled"}` to the device webhook, once, best effort.
    pub(super) fn cancel(&self, entry: &Entry) {
        if !self.is_webhook() {
            return;
        }
        self.outbox.send_webhook(WebhookMessage {
            id: format!("{}.cancelled", entry.request_id),
            body: json!({"type": "cancelled", "request_id": entry.request_id}).to_string(),
            deadline: unix(entry.request.expires_at + super::decision::EXPIRY_GRACE_SECS),
            request_id: entry.request.request_id.clone(),
        });
    }

    /// A decision was applied (here or elsewhere): the request leaves this replica's lists,
    /// and its next poll goes straight to Authlete, since the result is ready (SPEC §3.2).
    pub fn settle(&self, ticket: &str) -> Option<Entry> {
        let entry = self.registry.remove_ticket(ticket)?;
        let key = &entry.request.auth_req_id_key;
        self.pending.release(&entry.request.subject, key);
        self.poll.forget(key);
        Some(entry)
    }

    fn authentication_request(&self, entry: &Entry) -> String {
        let r = &entry.request;
        json!({
            "type": "authentication_request",
            "request_id": entry.request_id,
            "decision_token": entry.decision_token,
            "subject": r.subject,
            "client_id": r.client_id,
            "client_name": r.client_name,
            "scopes": r.scopes,
            "claim_names": r.claim_names,
            "acr_values": r.acrs,
            "binding_message": r.binding_message,
            "authorization_details": r.authorization_details,
            "request_context": r.request_context,
            "resources": r.resources,
            "delivery_mode": r.delivery_mode,
            "expires_at": r.expires_at,
            "decision_url": self.decision_url,
        })
        .to_string()
    }

    /// When the gateway itself ends an undecided request: the ping/push deadline, or expiry.
    fn deadline_secs(&self, request: &IssuedRequest) -> u64 {
        let lifetime = request.expires_at.saturating_sub(request.issued_at);
        if request.delivery_mode.is_some_and(DeliveryMode::notifies) {
            (lifetime as f64 * self.timeout_ratio).floor() as u64
        } else {
            lifetime
        }
    }
}

impl Bridge {
    /// Contacts the device for an issued request (SPEC §4 step 6), once, after the
    /// acknowledgement was built: a decision token, the webhook message or console listing,
    /// and the deadline. Never blocks.
    pub fn dispatch(self: &Arc<Self>, request: IssuedRequest) {
        let bridge = self;
        let claims = DecisionClaims {
            ticket: request.ticket.clone(),
            subject: request.subject.clone(),
            client_id: request.client_id.clone(),
            client_name: request.client_name.clone(),
            delivery_mode: request.delivery_mode,
            claim_names: request.claim_names.clone(),
            acrs: request.acrs.clone(),
            issued_at: request.issued_at,
            expires_at: request.expires_at,
        };
        let decision_token = match bridge.keys.seal(&claims) {
            Ok(token) => token,
            Err(e) => {
                log::error!("request_id={} {e}", request.request_id);
                return;
            }
        };
        let entry = Entry {
            request_id: random_id(),
            decision_token,
            request,
        };
        let after = Duration::from_secs(bridge.deadline_secs(&entry.request));
        if bridge.is_webhook() {
            bridge.outbox.send_webhook(WebhookMessage {
                id: entry.request_id.clone(),
                body: bridge.authentication_request(&entry),
                deadline: unix(entry.request.issued_at) + after,
                request_id: entry.request.request_id.clone(),
            });
        }
        let listed = bridge.registry.insert(entry.clone());
        super::deadline::schedule(bridge.clone(), entry, after, claims, listed);
    }
}

pub(super) fn unix(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// A random 128-bit identifier, base64url.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}
