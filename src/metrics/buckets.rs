//! Histogram buckets (SPEC §8): every histogram reaches the longest duration the
//! configuration allows for what it measures.

use std::time::Duration;

/// Request and call latencies; `Bounds::longest_call` is appended when it is longer, so that
/// the slowest call a timeout allows still lands in a bucket of its own.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0,
];

/// Enqueue to final outcome of a notification: retries run until the request expires, so the
/// buckets reach `Bounds::longest_delivery`.
const DELIVERY_BUCKETS: &[f64] = &[
    0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0,
    3600.0,
];

/// The longest durations the histograms must tell apart, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// The longest timeout of any call or request (e.g. `authlete.complete_timeout_ms`).
    pub longest_call: Duration,
    /// The longest a notification may be retried (`ciba.max_request_lifetime_secs`).
    pub longest_delivery: Duration,
}

impl Default for Bounds {
    /// The shipped defaults: `complete_timeout_ms` 30 s, a one-hour request lifetime.
    fn default() -> Self {
        Self {
            longest_call: Duration::from_secs(30),
            longest_delivery: Duration::from_secs(3600),
        }
    }
}

/// `base`, then `longest` (in whole seconds, rounded up) when no bucket reaches it.
fn with_longest(base: &[f64], longest: Duration) -> Vec<f64> {
    let mut buckets = base.to_vec();
    let longest = longest.as_secs_f64().ceil();
    if buckets.last().is_some_and(|&top| top < longest) {
        buckets.push(longest);
    }
    buckets
}

/// Buckets of request, call and state-operation latencies.
pub(super) fn latency(bounds: Bounds) -> Vec<f64> {
    with_longest(LATENCY_BUCKETS, bounds.longest_call)
}

/// Buckets of a notification's enqueue-to-outcome duration.
pub(super) fn delivery(bounds: Bounds) -> Vec<f64> {
    with_longest(DELIVERY_BUCKETS, bounds.longest_delivery)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_longer_timeout_gets_a_bucket_of_its_own_rounded_up_to_a_second() {
        let bounds = Bounds {
            longest_call: Duration::from_millis(44_500),
            longest_delivery: Duration::from_secs(600),
        };
        assert_eq!(latency(bounds).last(), Some(&45.0));
        assert_eq!(delivery(bounds).last(), Some(&3600.0), "already reached");
    }
}
