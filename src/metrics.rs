//! Every Prometheus metric of the gateway, declared in one place (SPEC §8).
//!
//! Labels come from fixed sets: route patterns, API names, actions, reasons and outcomes; never
//! raw paths, tokens, hints or client ids. Every combination known in advance is exported at 0
//! from the start (`startup::metrics`, which knows every vocabulary).

mod buckets;
mod standard;

use prometheus::{
    Encoder, Gauge, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec,
    Opts, Registry, TextEncoder,
};

/// The `decision` labels of `gateway_device_decisions_total`: the device's three, the deadline's
/// (`timeout`, or `late` when the user was first), and `unknown` when Authlete's answer did not
/// tell.
pub const DECISIONS: [&str; 6] = ["approve", "deny", "fail", "timeout", "late", "unknown"];
/// The `outcome` labels of `gateway_notifications_total`: one per notification, at its end.
pub const NOTIFICATION_OUTCOMES: [&str; 5] =
    ["delivered", "failed", "blocked", "abandoned", "lost"];
/// The `result` labels of the attempt counters of notifications and webhook messages: the
/// answer's status class, or no answer.
pub const ATTEMPT_RESULTS: [&str; 6] = ["2xx", "3xx", "4xx", "5xx", "timeout", "connect_error"];
/// The `outcome` labels of `gateway_webhook_messages_total`: one per message, at its end.
pub const WEBHOOK_OUTCOMES: [&str; 3] = ["delivered", "failed", "abandoned"];
/// The `status_class` labels of `gateway_http_request_duration_seconds`.
pub const STATUS_CLASSES: [&str; 4] = ["2xx", "3xx", "4xx", "5xx"];
/// The `result` labels of `gateway_cache_requests_total`.
pub const CACHE_RESULTS: [&str; 3] = ["hit", "miss", "stale"];
/// The `cause` labels of `gateway_long_poll_wakeups_total` (SPEC §14): how a parked poll ended.
pub const LONG_POLL_CAUSES: [&str; 6] = [
    "decision",
    "deadline",
    "timeout",
    "expiry",
    "disconnect",
    "shutdown",
];
/// The `result` labels of `gateway_state_operations_total`.
pub const STATE_RESULTS: [&str; 3] = ["ok", "error", "timeout"];

/// The registry and its metrics; built once and shared by all workers.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_duration: HistogramVec,
    pub authlete_requests: IntCounterVec,
    pub authlete_duration: HistogramVec,
    pub backchannel_failures: IntCounterVec,
    pub device_decisions: IntCounterVec,
    pub notifications: IntCounterVec,
    /// Enqueue to final outcome, per mode.
    pub notification_duration: HistogramVec,
    /// One per notification attempt, by the answer's class.
    pub notification_attempts: IntCounterVec,
    /// One per device webhook message, at its end.
    pub webhook_messages: IntCounterVec,
    /// One per device webhook attempt, by the answer's class.
    pub webhook_attempts: IntCounterVec,
    pub cache_requests: IntCounterVec,
    pub pending_requests: Gauge,
    pub slow_down: IntCounter,
    pub metadata_mismatch: GaugeVec,
    pub state_operations: IntCounterVec,
    pub state_duration: HistogramVec,
    /// 1 while the state backend answers; always 1 for `memory`.
    pub state_backend_up: Gauge,
    /// Shared deadlines taken over from a replica whose lease ran out (`redis`).
    pub deadlines_reclaimed: IntCounter,
    /// Messages queued per outbox kind: the fleet's with `redis`, this process's with `memory`.
    pub outbox_depth: GaugeVec,
    /// Delivery attempts running on this replica, per outbox kind.
    pub outbox_in_flight: GaugeVec,
    /// Deliveries taken over from a replica whose lease ran out (`redis`).
    pub outbox_reclaimed: IntCounterVec,
    /// Token requests parked by long polling on this replica (SPEC §14).
    pub long_polls_parked: Gauge,
    /// Parked polls that ended, by cause.
    pub long_poll_wakeups: IntCounterVec,
    /// From a decision applied (any replica) to the tokens answered to a poll it woke.
    pub decision_to_token: Histogram,
}

fn counter(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let metric = IntCounterVec::new(Opts::new(name, help), labels)
        .unwrap_or_else(|e| panic!("metric {name}: {e}"));
    register(registry, Box::new(metric.clone()));
    metric
}

fn gauge(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> GaugeVec {
    let metric = GaugeVec::new(Opts::new(name, help), labels)
        .unwrap_or_else(|e| panic!("metric {name}: {e}"));
    register(registry, Box::new(metric.clone()));
    metric
}

fn histogram(
    registry: &Registry,
    (name, help): (&str, &str),
    labels: &[&str],
    buckets: Vec<f64>,
) -> HistogramVec {
    let opts = HistogramOpts::new(name, help).buckets(buckets);
    let metric = HistogramVec::new(opts, labels).unwrap_or_else(|e| panic!("metric {name}: {e}"));
    register(registry, Box::new(metric.clone()));
    metric
}

fn register(registry: &Registry, metric: Box<dyn prometheus::core::Collector>) {
    // Names are compile-time constants, registered once into a fresh registry: a failure here is
    // a programming error caught by every test run.
    #[allow(clippy::expect_used)]
    registry.register(metric).expect("metric registered once");
}

impl Metrics {
    /// Every metric, with the default `Bounds`.
    pub fn new() -> Self {
        Self::with_bounds(Bounds::default())
    }

    /// Every metric, with histogram buckets reaching `bounds`.
    #[allow(clippy::expect_used)] // see `register`
    pub fn with_bounds(bounds: Bounds) -> Self {
        let registry = Registry::new();
        let r = &registry;
        standard::register_process(r);
        standard::register_build_info(r);
        let latency = || buckets::latency(bounds);
        let pending_requests = Gauge::new(
            "gateway_ciba_pending_requests",
            "Issued CIBA requests awaiting a decision at this replica",
        )
        .expect("valid gauge");
        register(r, Box::new(pending_requests.clone()));
        let slow_down = IntCounter::new(
            "gateway_slow_down_total",
            "Token polls answered slow_down by the gateway without calling Authlete",
        )
        .expect("valid counter");
        register(r, Box::new(slow_down.clone()));
        let metadata_mismatch = GaugeVec::new(
            Opts::new(
                "gateway_metadata_mismatch",
                "1 when Authlete's discovery disagrees with server.public_url for a field",
            ),
            &["field"],
        )
        .expect("valid gauge");
        register(r, Box::new(metadata_mismatch.clone()));
        let state_backend_up = Gauge::new(
            "gateway_state_backend_up",
            "1 while the state backend answers (always 1 for memory), 0 while it does not",
        )
        .expect("valid gauge");
        register(r, Box::new(state_backend_up.clone()));
        let deadlines_reclaimed = IntCounter::new(
            "gateway_deadlines_reclaimed_total",
            "Request deadlines taken over from a replica that stopped renewing its claim",
        )
        .expect("valid counter");
        register(r, Box::new(deadlines_reclaimed.clone()));
        let long_polls_parked = Gauge::new(
            "gateway_long_polls_parked",
            "CIBA token requests parked by long polling at this replica",
        )
        .expect("valid gauge");
        register(r, Box::new(long_polls_parked.clone()));
        let decision_to_token = Histogram::with_opts(
            HistogramOpts::new(
                "gateway_decision_to_token_seconds",
                "Time from a decision applied to the tokens answered to the long poll it woke",
            )
            .buckets(latency()),
        )
        .expect("valid histogram");
        register(r, Box::new(decision_to_token.clone()));
        Self {
            http_requests: counter(
                r,
                "gateway_http_requests_total",
                "HTTP requests served on the public listener",
                &["route", "method", "status"],
            ),
            http_duration: histogram(
                r,
                (
                    "gateway_http_request_duration_seconds",
                    "Time to answer a public request, by route and status class",
                ),
                &["route", "status_class"],
                latency(),
            ),
            authlete_requests: counter(
                r,
                "gateway_authlete_requests_total",
                "Calls to Authlete by API and resulting action",
                &["api", "action"],
            ),
            authlete_duration: histogram(
                r,
                (
                    "gateway_authlete_request_duration_seconds",
                    "Duration of calls to Authlete",
                ),
                &["api"],
                latency(),
            ),
            backchannel_failures: counter(
                r,
                "gateway_backchannel_failures_total",
                "Backchannel requests ended with /fail, by reason",
                &["reason"],
            ),
            device_decisions: counter(
                r,
                "gateway_device_decisions_total",
                "Decisions applied to CIBA requests",
                &["decision"],
            ),
            notifications: counter(
                r,
                "gateway_notifications_total",
                "Client notifications by mode and final outcome, one per notification",
                &["mode", "outcome"],
            ),
            notification_duration: histogram(
                r,
                (
                    "gateway_notification_duration_seconds",
                    "Time from a notification's enqueue to its final outcome",
                ),
                &["mode"],
                buckets::delivery(bounds),
            ),
            notification_attempts: counter(
                r,
                "gateway_notification_attempts_total",
                "Client notification attempts by mode and result",
                &["mode", "result"],
            ),
            webhook_messages: counter(
                r,
                "gateway_webhook_messages_total",
                "Device webhook messages by type and final outcome, one per message",
                &["type", "outcome"],
            ),
            webhook_attempts: counter(
                r,
                "gateway_webhook_attempts_total",
                "Device webhook attempts by result",
                &["result"],
            ),
            cache_requests: counter(
                r,
                "gateway_cache_requests_total",
                "Metadata cache lookups",
                &["cache", "result"],
            ),
            state_operations: counter(
                r,
                "gateway_state_operations_total",
                "Operations on the state backend by operation and result",
                &["op", "result"],
            ),
            state_duration: histogram(
                r,
                (
                    "gateway_state_operation_duration_seconds",
                    "Duration of operations on the state backend",
                ),
                &["op"],
                latency(),
            ),
            state_backend_up,
            deadlines_reclaimed,
            outbox_depth: gauge(
                r,
                "gateway_outbox_depth",
                "Messages queued in the outbox, by kind",
                &["kind"],
            ),
            outbox_in_flight: gauge(
                r,
                "gateway_outbox_in_flight",
                "Outbox delivery attempts in flight on this replica, by kind",
                &["kind"],
            ),
            outbox_reclaimed: counter(
                r,
                "gateway_outbox_reclaimed_total",
                "Outbox deliveries taken over from a replica whose lease ran out, by kind",
                &["kind"],
            ),
            long_polls_parked,
            long_poll_wakeups: counter(
                r,
                "gateway_long_poll_wakeups_total",
                "Parked long polls that ended, by cause",
                &["cause"],
            ),
            decision_to_token,
            pending_requests,
            slow_down,
            metadata_mismatch,
            registry,
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        let encoder = TextEncoder::new();
        if let Err(e) = encoder.encode(&self.registry.gather(), &mut buffer) {
            log::error!("encoding metrics failed: {e}");
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}

pub use buckets::Bounds;
pub use standard::{REVISION, VERSION};

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
