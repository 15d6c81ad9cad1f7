//! What the outbox delivers: client notifications (SPEC §6) and device webhook messages
//! (SPEC §5.2). Their `Debug` leaves out every credential.

use std::fmt;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

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
    /// When the outbox took it, for `gateway_notification_duration_seconds`:
    /// `NotificationPlace::send` stamps it on the injected clock.
    pub enqueued_at: SystemTime,
    /// The `X-Request-Id` of the decision, for logs.
    pub request_id: String,
    /// The `traceparent` of the span that made it: deliveries continue that trace (SPEC §13).
    pub traceparent: Option<String>,
}

/// What a device webhook message announces: its `type` (SPEC §5.2), and the `type` label of
/// `gateway_webhook_messages_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookType {
    #[default]
    AuthenticationRequest,
    Cancelled,
}

impl WebhookType {
    /// Every type, for the metrics exported before the first message.
    pub const ALL: [WebhookType; 2] = [WebhookType::AuthenticationRequest, WebhookType::Cancelled];

    pub fn label(self) -> &'static str {
        match self {
            Self::AuthenticationRequest => "authentication_request",
            Self::Cancelled => "cancelled",
        }
    }
}

/// A device webhook message; the body is built by the caller.
#[derive(Clone)]
pub struct WebhookMessage {
    pub kind: WebhookType,
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
            .field("kind", &self.kind)
            .field("id", &self.id)
            .field("deadline", &self.deadline)
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}
