//! Edge polling control (SPEC §3.2): a poll that comes sooner than the interval after the last
//! one Authlete answered pending gets `slow_down` without calling Authlete.

use std::time::{Duration, Instant};

/// The interval CIBA Core §7.3 tells clients to use when none (or ≤ 0) was given.
const CIBA_DEFAULT_INTERVAL_SECS: u64 = 5;

pub struct PollControl {
    /// Arrival time of the last poll Authlete answered pending/slow_down, per request key.
    last_poll: moka::sync::Cache<[u8; 32], Instant>,
    /// The interval this replica saw in `/issue`, per request key.
    intervals: moka::sync::Cache<[u8; 32], u64>,
    leeway: Duration,
    default_interval_secs: u64,
}

impl PollControl {
    pub fn new(
        max_entries: u64,
        lifetime: Duration,
        leeway: Duration,
        default_interval_secs: u64,
    ) -> Self {
        Self {
            last_poll: moka::sync::Cache::builder()
                .max_capacity(max_entries)
                .time_to_live(lifetime)
                .build(),
            intervals: moka::sync::Cache::builder()
                .max_capacity(max_entries)
                .time_to_live(lifetime)
                .build(),
            leeway,
            default_interval_secs,
        }
    }

    /// Remembers the `interval` of an issued request; a value ≤ 0 counts as 5 s (CIBA §7.3).
    pub fn record_interval(&self, key: [u8; 32], interval: i64) {
        let secs = if interval > 0 {
            interval as u64
        } else {
            CIBA_DEFAULT_INTERVAL_SECS
        };
        self.intervals.insert(key, secs);
    }

    fn interval(&self, key: &[u8; 32]) -> Duration {
        let secs = self
            .intervals
            .get(key)
            .unwrap_or(self.default_interval_secs);
        Duration::from_secs(secs)
    }

    /// True when a poll arriving at `arrival` comes too soon after the recorded one.
    pub fn too_early(&self, key: &[u8; 32], arrival: Instant) -> bool {
        let Some(last) = self.last_poll.get(key) else {
            return false;
        };
        let minimum = self.interval(key).saturating_sub(self.leeway);
        arrival.saturating_duration_since(last) < minimum
    }

    /// Records a poll that Authlete answered `authorization_pending` or `slow_down`.
    pub fn record_poll(&self, key: [u8; 32], arrival: Instant) {
        self.last_poll.insert(key, arrival);
    }

    /// Forgets a request whose tokens were issued.
    pub fn forget(&self, key: &[u8; 32]) {
        self.last_poll.invalidate(key);
        self.intervals.invalidate(key);
    }
}
