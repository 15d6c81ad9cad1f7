//! The `memory` backend: this process only, soft (lost on restart), time from the injected
//! clock. Right for one replica and the embedded demo.

mod claims;
mod lockout;
mod pending;
mod poll;
pub mod registry;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{CallerDigest, GuardPolicy, PollPolicy, RequestKey};
use crate::clock::SharedClock;

/// The last poll Authlete answered pending for one request key.
#[derive(Clone, Copy)]
struct Polled {
    caller_digest: CallerDigest,
    /// Microseconds since `MemoryState::origin`.
    at: u64,
}

pub struct MemoryState {
    polls: moka::sync::Cache<RequestKey, Polled>,
    intervals: moka::sync::Cache<RequestKey, Duration>,
    /// Requests whose result is ready: a pending answer that arrives after the decision (its
    /// poll was sent before) must not bring the entry back.
    ready: moka::sync::Cache<RequestKey, ()>,
    /// The backchannel request's `traceparent` of each issued request, kept after its result
    /// is ready so that the poll collecting it links to the request's trace (SPEC §13).
    traces: moka::sync::Cache<RequestKey, std::sync::Arc<str>>,
    policy: PollPolicy,
    /// The pending places of each subject (SPEC §4 step 4).
    pending: Mutex<pending::Places>,
    /// The wrong and unsettled user-code guesses of each subject or hint (SPEC §4 step 2).
    failures: moka::sync::Cache<lockout::Who, lockout::Failures>,
    /// The requests awaiting a decision (SPEC §5, §5.4).
    listings: Mutex<registry::Listings>,
    /// The completion claims (SPEC §12).
    claims: Mutex<claims::Claims>,
    /// How long a completion claim lasts unless renewed.
    lease: Duration,
    guards: GuardPolicy,
    clock: SharedClock,
    origin: Instant,
}

impl MemoryState {
    /// At most `max_entries` (`cache.poll_max_entries`) poll entries of each kind are kept.
    pub fn new(
        policy: PollPolicy,
        max_entries: u64,
        clock: SharedClock,
        guards: GuardPolicy,
        lease: Duration,
    ) -> Self {
        Self {
            polls: bounded(max_entries, policy.lifetime),
            intervals: bounded(max_entries, policy.lifetime),
            ready: bounded(max_entries, policy.lifetime),
            traces: bounded(max_entries, policy.lifetime),
            policy,
            pending: Mutex::default(),
            failures: lockout::cache(guards.failure_window),
            listings: Mutex::default(),
            claims: Mutex::default(),
            lease,
            guards,
            origin: clock.instant(),
            clock,
        }
    }

    fn now(&self) -> u64 {
        let elapsed = self.clock.instant().saturating_duration_since(self.origin);
        u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX)
    }
}

fn bounded<V: Clone + Send + Sync + 'static>(
    max_entries: u64,
    lifetime: Duration,
) -> moka::sync::Cache<RequestKey, V> {
    moka::sync::Cache::builder()
        .max_capacity(max_entries)
        .time_to_live(lifetime)
        .build()
}

#[cfg(test)]
pub(super) mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::clock::ManualClock;

    /// The reservation TTL, failure window and claim lease of `state_with_cap`.
    pub const TTL: Duration = Duration::from_secs(10);

    /// A state on `clock` that holds `max_pending` places per subject.
    pub fn state_with_cap(clock: Arc<ManualClock>, max_pending: usize) -> MemoryState {
        let policy = PollPolicy {
            leeway: Duration::ZERO,
            default_interval: Duration::from_secs(5),
            lifetime: Duration::from_secs(60),
        };
        let guards = GuardPolicy {
            max_pending,
            reservation_ttl: TTL,
            max_failures: 1,
            failure_window: TTL,
        };
        MemoryState::new(policy, 10, clock, guards, TTL)
    }
}
