//! What the outbox delivers: client notifications (SPEC §6) and device webhook messages
//! (SPEC §5.2). Their `Debug` leaves out every credential.

use std::fmt;
use std::time::SystemTime;

use crate::config::Secret;

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
    /// The Authlete ticket of the request: the fleet's outbox names the notification by it,
    /// so that storing it twice stores it once. Never logged.
    pub ticket: String,
    /// Retries stop here.
    pub expires_at: SystemTime,
    /// The `X-Request-Id` of the decision, for logs.
    pub request_id: String,
    /// The `traceparent` of the span that made it: deliveries continue that trace (SPEC §13).
    pub traceparent: Option<String>,
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
    /// The `traceparent` of the span that made it: deliveries continue that trace (SPEC §13).
    pub traceparent: Option<String>,
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
