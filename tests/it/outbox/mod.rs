//! The outbox through real HTTP: client notifications (SPEC §6) and device webhook messages
//! (SPEC §5.2) delivered to local wiremock receivers on port 0.

mod bounds;
mod delivery;
mod guard;
pub(crate) mod webhook;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use authlete_gateway::clock::ManualClock;
use authlete_gateway::config::{Secret, Settings};
use authlete_gateway::metrics::Metrics;
use authlete_gateway::outbox::{Notification, NotificationMode, Outbox};
use wiremock::{MockServer, Request};

use crate::support;

pub const TOKEN: &str = "client-notification-token-1";
pub const BODY: &str = r#"{"auth_req_id":"arid-1"}"#;

/// An outbox built as the gateway builds it, with its metrics and manual clock at hand.
pub struct Harness {
    pub outbox: Arc<Outbox>,
    pub metrics: Metrics,
    pub clock: Arc<ManualClock>,
}

/// `notifications.max_backoff_ms` here: no wait between two attempts is longer.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Test settings: loopback admitted, http allowed, backoff capped at `MAX_BACKOFF`.
pub fn settings() -> Settings {
    let mut settings = support::settings();
    let n = &mut settings.notifications;
    n.allowed_networks = vec!["127.0.0.0/8".parse().unwrap()];
    n.allow_insecure_http = true;
    n.max_backoff = MAX_BACKOFF;
    n.timeout = Duration::from_millis(2000);
    settings
}

impl Harness {
    pub fn start() -> Self {
        Self::start_with(|_| {})
    }

    pub fn start_with(adjust: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = settings();
        adjust(&mut settings);
        let metrics = authlete_gateway::startup::metrics(&settings);
        let clock = Arc::new(ManualClock::new());
        let outbox = Outbox::new(&settings, metrics.clone(), clock.clone(), None, None).unwrap();
        Self {
            outbox,
            metrics,
            clock,
        }
    }

    /// A ping notification to `endpoint`, expiring in ten minutes.
    pub fn notification(&self, endpoint: &str) -> Notification {
        Notification {
            mode: NotificationMode::Ping,
            endpoint: endpoint.to_owned(),
            token: Secret::new(TOKEN),
            body: BODY.to_owned(),
            auth_req_id: "arid-1".to_owned(),
            ticket: "ticket-1".to_owned(),
            expires_at: self.now() + Duration::from_secs(600),
            // `NotificationPlace::send` stamps it again.
            enqueued_at: self.now(),
            request_id: "req-1".to_owned(),
            traceparent: None,
        }
    }

    pub fn now(&self) -> SystemTime {
        use authlete_gateway::clock::Clock;
        self.clock.now()
    }

    pub async fn send(&self, notification: Notification) {
        let place = self.outbox.reserve().await.expect("a free queue place");
        assert!(place.send(notification).await, "stored");
    }

    /// `gateway_notifications_total{mode, outcome}`.
    pub fn count(&self, mode: &str, outcome: &str) -> f64 {
        let series =
            format!("gateway_notifications_total{{mode=\"{mode}\",outcome=\"{outcome}\"}}");
        support::sample(&self.metrics.render(), &series)
    }

    /// `gateway_notification_attempts_total{mode, result}`.
    pub fn attempts(&self, mode: &str, result: &str) -> f64 {
        let series =
            format!("gateway_notification_attempts_total{{mode=\"{mode}\",result=\"{result}\"}}");
        support::sample(&self.metrics.render(), &series)
    }

    /// Any series of the outbox's metrics, e.g. `gateway_webhook_attempts_total{result="2xx"}`.
    pub fn series(&self, name_and_labels: &str) -> f64 {
        support::sample(&self.metrics.render(), name_and_labels)
    }

    /// Moves the clock by `by` once a delivery waits on it: only then is its timer set, so
    /// that the move counts. Call it once per wait, and only after seeing the attempt before
    /// that wait: a wait that has just ended counts as waiting until its delivery runs again.
    pub async fn advance_once_waiting(&self, by: Duration) {
        support::eventually("a delivery to wait on the clock", || async {
            self.clock.sleepers() > 0
        })
        .await;
        self.clock.advance(by);
    }

    /// Ends the wait before the next attempt, whatever its length (see `advance_once_waiting`).
    pub async fn end_backoff(&self) {
        self.advance_once_waiting(MAX_BACKOFF).await;
    }

    /// Waits until `outcome` has been counted `expected` times for ping.
    pub async fn counted(&self, outcome: &str, expected: f64) {
        let what = format!("ping {outcome} to be counted {expected} time(s)");
        support::eventually(&what, || async { self.count("ping", outcome) >= expected }).await;
    }
}

pub async fn received(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap_or_default()
}

pub fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers.get(name).and_then(|v| v.to_str().ok())
}
