//! Placeholder with the outbox interface, replaced by the real module on merge.
#![allow(dead_code, unused_variables)]
use std::sync::Arc;
use std::time::{Duration, SystemTime};
pub struct Outbox;
impl Outbox {
    pub fn new(
        settings: &crate::config::Settings,
        metrics: crate::metrics::Metrics,
        clock: crate::clock::SharedClock,
    ) -> Result<Arc<Self>, String> {
        Ok(Arc::new(Outbox))
    }
    pub fn reserve(&self) -> Option<NotificationSlot> {
        Some(NotificationSlot)
    }
    pub fn send_webhook(&self, message: WebhookMessage) {}
    pub async fn drain(&self, timeout: Duration) {}
}
pub struct NotificationSlot;
impl NotificationSlot {
    pub fn send(self, notification: Notification) {}
}
pub enum NotificationMode {
    Ping,
    Push,
}
pub struct Notification {
    pub mode: NotificationMode,
    pub endpoint: String,
    pub token: crate::config::Secret,
    pub body: String,
    pub auth_req_id: String,
    pub expires_at: SystemTime,
    pub request_id: String,
}
pub struct WebhookMessage {
    pub id: String,
    pub body: String,
    pub deadline: SystemTime,
    pub request_id: String,
}
