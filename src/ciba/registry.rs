//! The requests this replica issued and that still await a decision: the console's list, the
//! deadline timers, and `gateway_ciba_pending_requests`.

use std::collections::HashMap;
use std::sync::Mutex;

use prometheus::Gauge;

use super::device::IssuedRequest;

/// Entries kept at most; beyond it new requests are still served but not listed.
const MAX_ENTRIES: usize = 100_000;

/// One undecided request.
#[derive(Debug, Clone)]
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

#[derive(Default)]
struct Inner {
    by_id: HashMap<String, Entry>,
    by_ticket: HashMap<String, String>,
}

pub struct Registry {
    inner: Mutex<Inner>,
    gauge: Gauge,
}

impl Registry {
    pub fn new(gauge: Gauge) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            gauge,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Lists `entry`; false when the registry is full and the request stays unlisted.
    pub fn insert(&self, entry: Entry) -> bool {
        let mut inner = self.lock();
        if inner.by_id.len() >= MAX_ENTRIES {
            log::warn!(
                "request_id={} not listed: {MAX_ENTRIES} requests are already pending",
                entry.request.request_id
            );
            return false;
        }
        inner.by_ticket.insert(
            entry.request.claims.ticket.clone(),
            entry.ciba_request_id.clone(),
        );
        inner.by_id.insert(entry.ciba_request_id.clone(), entry);
        self.gauge.set(inner.by_id.len() as f64);
        true
    }

    pub fn get(&self, request_id: &str) -> Option<Entry> {
        self.lock().by_id.get(request_id).cloned()
    }

    /// Removes and returns the entry for `ticket` (a decision was applied).
    pub fn remove_ticket(&self, ticket: &str) -> Option<Entry> {
        let mut inner = self.lock();
        let id = inner.by_ticket.remove(ticket)?;
        let entry = inner.by_id.remove(&id);
        self.gauge.set(inner.by_id.len() as f64);
        entry
    }

    /// Every entry, oldest first.
    pub fn list(&self) -> Vec<Entry> {
        let mut entries: Vec<Entry> = self.lock().by_id.values().cloned().collect();
        entries.sort_by_key(|e| (e.request.claims.issued_at, e.ciba_request_id.clone()));
        entries
    }
}
