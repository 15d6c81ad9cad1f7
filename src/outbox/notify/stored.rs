//! A notification as the fleet's outbox stores it: every field, since any replica may deliver
//! it. The backend seals these bytes whole (SPEC §12 "Secrets at rest").

use std::time::{Duration, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::config::Secret;
use crate::outbox::{Notification, NotificationMode};

#[derive(Serialize, Deserialize)]
pub(super) struct Stored {
    push: bool,
    endpoint: String,
    token: String,
    body: String,
    auth_req_id: String,
    ticket: String,
    expires_at_ms: u64,
    enqueued_at_ms: u64,
    request_id: String,
    /// Absent from messages stored before traces were kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    traceparent: Option<String>,
}

fn millis(time: std::time::SystemTime) -> u64 {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}

impl From<&Notification> for Stored {
    fn from(n: &Notification) -> Self {
        Self {
            push: n.mode == NotificationMode::Push,
            endpoint: n.endpoint.clone(),
            token: n.token.expose().to_owned(),
            body: n.body.clone(),
            auth_req_id: n.auth_req_id.clone(),
            ticket: n.ticket.clone(),
            expires_at_ms: millis(n.expires_at),
            enqueued_at_ms: millis(n.enqueued_at),
            request_id: n.request_id.clone(),
            traceparent: n.traceparent.clone(),
        }
    }
}

impl Stored {
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serialising strings and numbers cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Notification> {
        let s: Stored = serde_json::from_slice(bytes).ok()?;
        Some(Notification {
            mode: if s.push {
                NotificationMode::Push
            } else {
                NotificationMode::Ping
            },
            endpoint: s.endpoint,
            token: Secret::new(s.token),
            body: s.body,
            auth_req_id: s.auth_req_id,
            ticket: s.ticket,
            expires_at: UNIX_EPOCH + Duration::from_millis(s.expires_at_ms),
            enqueued_at: UNIX_EPOCH + Duration::from_millis(s.enqueued_at_ms),
            request_id: s.request_id,
            traceparent: s.traceparent,
        })
    }
}
