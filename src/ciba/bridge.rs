//! The authentication-device bridge (SPEC §4 step 6, §5): every issued request gets a decision
//! token, is listed for the console or sent to the device webhook, and is never left hanging —
//! ping and push requests are failed by the gateway at their deadline, poll requests are
//! cancelled at expiry (both in `deadline`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;

use super::background::Background;
use super::claim::Held;
use super::complete::Outcome;
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
use crate::outbox::{NotificationMode, Outbox, WebhookMessage, WebhookType};
use crate::state::{DeadlineLease, Deadlines as _, State, Wake, WakeCause};

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
    /// `ciba.long_polling`: a settled request wakes the polls parked for it (SPEC §14).
    long_polling: bool,
    /// The shared deadlines this replica runs, by ticket, handed back at shutdown.
    held_deadlines: Mutex<HashMap<String, DeadlineLease>>,
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
            registry: Registry::new(
                parts.state.clone(),
                parts.metrics.pending_requests.clone(),
                parts.clock.clone(),
            ),
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
            long_polling: settings.ciba.long_polling,
            held_deadlines: Mutex::default(),
        }
    }

    /// After a `/complete` call under `held`: the claim settled (a tombstone when Authlete
    /// answered, released when not), and a takeover that finds the request completed checked
    /// for a lost notification.
    pub(super) async fn conclude(&self, held: Held, outcome: &Outcome, claims: &DecisionClaims) {
        if held.takeover && *outcome == Outcome::AlreadyDecided {
            self.report_if_lost(claims).await;
        }
        held.settle(outcome, claims.expires_at, &self.clock).await;
    }

    /// The one window SPEC §12 leaves by construction: the claim's previous holder died between
    /// Authlete's answer to its `/complete` and storing the notification. Authlete now says the
    /// request was completed (A196203), and if the fleet's outbox holds no notification for it, the
    /// client will never hear: logged and counted as `outcome="lost"`.
    async fn report_if_lost(&self, claims: &DecisionClaims) {
        let notifies = claims.delivery_mode.is_some_and(DeliveryMode::notifies);
        if !notifies || !self.state.shares_deadlines() {
            return;
        }
        let mode = match claims.delivery_mode {
            Some(DeliveryMode::Push) => NotificationMode::Push,
            _ => NotificationMode::Ping,
        };
        match self.outbox.holds_notification(&claims.ticket).await {
            Ok(true) => log::info!(
                "a completion claim was taken over after its holder stored the {} notification; \
                 the fleet's outbox delivers it",
                mode.label()
            ),
            Ok(false) => {
                log::error!(
                    "a {} notification was lost: the replica that completed the request died \
                     before storing it (client {})",
                    mode.label(),
                    claims.client_id.as_deref().unwrap_or("-")
                );
                self.metrics
                    .notifications
                    .with_label_values(&[mode.label(), "lost"])
                    .inc();
            }
            Err(e) => log::warn!(
                "a completion claim was taken over from a holder that never reported back; whether \
                 its notification was stored is unknown: {e}"
            ),
        }
    }

    fn held_deadlines(&self) -> std::sync::MutexGuard<'_, HashMap<String, DeadlineLease>> {
        self.held_deadlines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Records that this replica runs the deadline of `ticket` under `lease`.
    pub(super) fn hold_deadline(&self, ticket: &str, lease: &DeadlineLease) {
        self.held_deadlines()
            .insert(ticket.to_owned(), lease.clone());
    }

    /// This replica no longer runs the deadline of `ticket` under `lease` (a later lease on the
    /// same deadline stays recorded).
    pub(super) fn drop_deadline(&self, ticket: &str, lease: &DeadlineLease) {
        let mut held = self.held_deadlines();
        if held.get(ticket) == Some(lease) {
            held.remove(ticket);
        }
    }

    /// Gives the deadline of `ticket` back to the fleet, due at once.
    pub(super) async fn give_back(&self, ticket: &str, lease: &DeadlineLease) {
        if let Err(e) = self.state.postpone(ticket, lease, Duration::ZERO).await {
            log::warn!("a deadline was not handed back; it waits for its lease to run out: {e}");
        }
    }

    /// At shutdown, after the background work drained: the deadlines this replica still
    /// holds are due again at once, for the rest of the fleet (SPEC §12 "Shutdown").
    pub async fn hand_back(&self) {
        let held: Vec<(String, DeadlineLease)> = self.held_deadlines().drain().collect();
        for (ticket, lease) in held {
            self.give_back(&ticket, &lease).await;
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
            kind: WebhookType::Cancelled,
            id: format!("{}.cancelled", entry.ciba_request_id),
            body: json!({"type": "cancelled", "request_id": entry.ciba_request_id}).to_string(),
            deadline: unix(entry.request.claims.expires_at + super::decision::EXPIRY_GRACE_SECS),
            request_id: entry.request.request_id.clone(),
            traceparent: entry.request.claims.traceparent.clone(),
        });
    }

    /// A decision was applied (here or elsewhere), or a deadline (`cause`): the request leaves
    /// the lists, its next poll goes straight to Authlete, since the result is ready (SPEC §3.2),
    /// and the polls parked for it, on any replica, are woken (SPEC §14) — once, by whoever
    /// removed it. When the backend cannot remove it, it stays listed until its expiry (a
    /// decision then gets 409) and parked polls end at their timeout.
    pub async fn settle(&self, ticket: &str, cause: WakeCause) -> Option<Entry> {
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
        if self.long_polling {
            let wake = Wake {
                cause,
                applied_at_ms: self.clock.unix_millis(),
            };
            self.state.wake(key, wake).await;
        }
        Some(entry)
    }

    /// The webhook's `authentication_request` message: the entry as the device sees it.
    pub(super) fn authentication_request(&self, entry: &Entry) -> String {
        let mut body = entry.device_view();
        body.insert("type".into(), "authentication_request".into());
        body.insert("decision_url".into(), self.decision_url.clone().into());
        serde_json::Value::Object(body).to_string()
    }

    /// How long after its issue the gateway itself ends an undecided request (SPEC §5.3).
    pub(super) fn deadline_after(&self, request: &IssuedRequest) -> Duration {
        let c = &request.claims;
        deadline_after(
            Duration::from_secs(c.expires_at.saturating_sub(c.issued_at)),
            c.delivery_mode.is_some_and(DeliveryMode::notifies),
            self.timeout_ratio,
            self.state.shares_deadlines().then(|| self.state.lease()),
        )
    }
}

/// A ping/push request ends at `ratio` of its `lifetime` — brought forward, when the fleet
/// shares deadlines under `lease`, to max(lifetime − 2 × lease, lifetime / 2), so that another
/// replica can still take it over before expiry; a poll request at its expiry.
fn deadline_after(
    lifetime: Duration,
    notifies: bool,
    ratio: f64,
    lease: Option<Duration>,
) -> Duration {
    if !notifies {
        return lifetime;
    }
    let at_ratio = lifetime.mul_f64(ratio);
    match lease {
        Some(lease) => at_ratio.min(lifetime.saturating_sub(lease * 2).max(lifetime / 2)),
        None => at_ratio,
    }
}

pub(super) fn unix(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_deadline_leaves_two_leases_before_expiry_but_never_falls_before_half_the_lifetime()
    {
        let secs = Duration::from_secs;
        let lease = Some(secs(10));
        assert_eq!(deadline_after(secs(600), true, 0.8, lease), secs(480));
        assert_eq!(deadline_after(secs(60), true, 0.8, lease), secs(40));
        assert_eq!(deadline_after(secs(4), true, 0.8, lease), secs(2));
        assert_eq!(deadline_after(secs(60), true, 0.8, None), secs(48));
        assert_eq!(
            deadline_after(secs(4), true, 0.8, None),
            Duration::from_millis(3200)
        );
        assert_eq!(deadline_after(secs(60), false, 0.8, lease), secs(60));
        assert_eq!(deadline_after(secs(60), false, 0.8, None), secs(60));
    }
}
