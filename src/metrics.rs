//! Every Prometheus metric of the gateway, declared in one place (SPEC §8).
//!
//! Labels come from fixed sets: route patterns, API names, actions, reasons and outcomes; never
//! raw paths, tokens, hints or client ids. Every combination known in advance is exported at 0
//! from the start (`startup::metrics`, which knows every vocabulary).

use prometheus::{
    Encoder, Gauge, GaugeVec, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts,
    Registry, TextEncoder,
};

/// The `decision` labels of `gateway_device_decisions_total`: the device's three, the deadline's
/// (`timeout`, or `late` when the user was first), and `unknown` when Authlete's answer did not
/// tell.
pub const DECISIONS: [&str; 6] = ["approve", "deny", "fail", "timeout", "late", "unknown"];
/// The `outcome` labels of `gateway_notifications_total`: the final outcomes, and `retried`
/// once per attempt after the first.
pub const NOTIFICATION_OUTCOMES: [&str; 4] = ["delivered", "failed", "blocked", "retried"];
/// The `result` labels of `gateway_cache_requests_total`.
pub const CACHE_RESULTS: [&str; 3] = ["hit", "miss", "stale"];
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
    pub notification_duration: HistogramVec,
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
}

const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

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

fn histogram(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> HistogramVec {
    let opts = HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec());
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
    #[allow(clippy::expect_used)] // see `register`
    pub fn new() -> Self {
        let registry = Registry::new();
        let r = &registry;
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
        Self {
            http_requests: counter(
                r,
                "gateway_http_requests_total",
                "HTTP requests served on the public listener",
                &["route", "method", "status"],
            ),
            http_duration: histogram(
                r,
                "gateway_http_request_duration_seconds",
                "Time to answer a public request",
                &["route"],
            ),
            authlete_requests: counter(
                r,
                "gateway_authlete_requests_total",
                "Calls to Authlete by API and resulting action",
                &["api", "action"],
            ),
            authlete_duration: histogram(
                r,
                "gateway_authlete_request_duration_seconds",
                "Duration of calls to Authlete",
                &["api"],
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
                "Client notifications by mode and outcome",
                &["mode", "outcome"],
            ),
            notification_duration: histogram(
                r,
                "gateway_notification_duration_seconds",
                "Duration of notification attempts",
                &["mode"],
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
                "gateway_state_operation_duration_seconds",
                "Duration of operations on the state backend",
                &["op"],
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

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
