//! The requests that still await a decision: the console's list, what the deadline timers
//! check, and `gateway_ciba_pending_requests`. Kept by the state backend: with `redis` the
//! console of any replica lists, and decides, the fleet's requests.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prometheus::Gauge;
use serde::{Deserialize, Serialize};

use super::device::IssuedRequest;
use crate::clock::SharedClock;
use crate::state::memory::registry::MAX_ENTRIES;
use crate::state::{Listing, Registry as _, State, StateError};

/// Entries the console lists at most: the `MAX_LISTED` closest to their expiry.
pub const MAX_LISTED: usize = 1_000;

/// Requests left unlisted (the backend full) are logged at most once per window, with their
/// count: a full registry under load would otherwise log a line per request.
const UNLISTED_LOG_WINDOW: Duration = Duration::from_secs(60);

/// One undecided request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// The device-facing id (`request_id` in the webhook and console JSON, `ciba_request_id`
    /// in logs): random, unrelated to the ticket, the auth_req_id and the X-Request-Id.
    pub ciba_request_id: String,
    pub decision_token: String,
    pub request: IssuedRequest,
}

impl Entry {
    /// The request as the device and the console see it (SPEC §5.2, §5.4): one shape for
    /// both, `null` where absent.
    pub fn device_view(&self) -> serde_json::Map<String, serde_json::Value> {
        let r = &self.request;
        let c = &r.claims;
        let view = serde_json::json!({
            "request_id": self.ciba_request_id,
            "decision_token": self.decision_token,
            "subject": c.subject,
            "client_id": c.client_id,
            "client_name": c.client_name,
            "scopes": r.scopes,
            "claim_names": c.claim_names,
            "acr_values": c.acrs,
            "binding_message": r.binding_message,
            "authorization_details": r.authorization_details,
            "request_context": r.request_context,
            "resources": r.resources,
            "delivery_mode": c.delivery_mode,
            "expires_at": c.expires_at,
        });
        match view {
            serde_json::Value::Object(members) => members,
            _ => serde_json::Map::new(),
        }
    }
}

/// The requests awaiting a decision, in the state backend (`state::Registry`): per replica
/// with `memory`, the fleet's with `redis`.
pub struct Registry {
    state: Arc<State>,
    gauge: Gauge,
    clock: SharedClock,
    unlisted: Mutex<Unlisted>,
}

/// Requests left unlisted since the last line that said so.
#[derive(Debug, Default)]
struct Unlisted {
    logged_at: Option<Instant>,
    since: u64,
}

impl Unlisted {
    /// Counts one more at `now`; the count to log when a line is due (none logged yet, or the
    /// window since the last one has passed), which starts the count again.
    fn count(&mut self, now: Instant) -> Option<u64> {
        self.since += 1;
        let due = self
            .logged_at
            .is_none_or(|at| now.saturating_duration_since(at) >= UNLISTED_LOG_WINDOW);
        due.then(|| {
            self.logged_at = Some(now);
            std::mem::take(&mut self.since)
        })
    }
}

impl Registry {
    pub fn new(state: Arc<State>, gauge: Gauge, clock: SharedClock) -> Self {
        Self {
            state,
            gauge,
            clock,
            unlisted: Mutex::default(),
        }
    }

    /// Lists `entry` until its expiry, with its deadline `deadline_in` from now where the
    /// fleet shares deadlines: false when the backend is full and the request stays unlisted.
    /// An error means the request could not be listed (SPEC §12 "Issue").
    pub async fn insert(&self, entry: &Entry, deadline_in: Duration) -> Result<bool, StateError> {
        let c = &entry.request.claims;
        let listing = Listing {
            id: entry.ciba_request_id.clone(),
            ticket: c.ticket.clone(),
            issued_at: c.issued_at,
            record: serde_json::to_string(entry)
                .map_err(|e| StateError::Unavailable(format!("registry entry: {e}")))?,
        };
        let lifetime = Duration::from_secs(c.expires_at.saturating_sub(c.issued_at));
        let listed = self.state.insert(&listing, lifetime, deadline_in).await?;
        if !listed {
            let now = self.clock.instant();
            let due = self
                .unlisted
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .count(now);
            if let Some(count) = due {
                log::warn!(
                    request_id = entry.request.request_id; "not listed: {MAX_ENTRIES} requests are already pending; \
                     {count} request(s) left unlisted since this was last logged (at most once a minute)"
                );
            }
        }
        Ok(listed)
    }

    pub async fn get(&self, request_id: &str) -> Result<Option<Entry>, StateError> {
        Ok(self.state.get(request_id).await?.and_then(decode))
    }

    /// Removes and returns the entry for `ticket` (a decision was applied).
    pub async fn remove_ticket(&self, ticket: &str) -> Result<Option<Entry>, StateError> {
        Ok(self.state.remove(ticket).await?.and_then(decode))
    }

    /// At most `MAX_LISTED` entries (those closest to their expiry), oldest first.
    pub async fn list(&self) -> Result<Vec<Entry>, StateError> {
        let listed = self.state.list(MAX_LISTED).await?;
        Ok(listed.into_iter().filter_map(decode).collect())
    }

    /// Sets `gateway_ciba_pending_requests` to the backend's count (the fleet's with `redis`);
    /// on failure it keeps its last value.
    pub async fn refresh_gauge(&self) {
        match self.state.count().await {
            Ok(count) => self.gauge.set(count as f64),
            Err(e) => log::debug!("pending requests not counted: {e}"),
        }
    }
}

pub(super) fn decode(listing: Listing) -> Option<Entry> {
    serde_json::from_str(&listing.record)
        .map_err(|e| log::warn!("a registry entry does not decode: {e}"))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlisted_requests_are_logged_once_per_window_with_their_count() {
        let start = Instant::now();
        let mut unlisted = Unlisted::default();
        assert_eq!(
            unlisted.count(start),
            Some(1),
            "the first is logged at once"
        );
        for seconds in [1, 30, 59] {
            assert_eq!(unlisted.count(start + Duration::from_secs(seconds)), None);
        }
        let next = start + UNLISTED_LOG_WINDOW;
        assert_eq!(
            unlisted.count(next),
            Some(4),
            "three held back, and this one"
        );
        assert_eq!(unlisted.count(next + Duration::from_secs(1)), None);
        assert_eq!(
            unlisted.count(next + UNLISTED_LOG_WINDOW + Duration::from_secs(5)),
            Some(2)
        );
    }
}
