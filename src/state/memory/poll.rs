//! The poll entries of SPEC §3.2 in two bounded caches.

use std::time::Duration;

use subtle::ConstantTimeEq;

use super::{MemoryState, Polled};
use crate::state::{
    Arrival, CallerDigest, Checked, PollCheck, PollEntries, RequestKey, StateError,
};

impl PollEntries for MemoryState {
    async fn record_interval(
        &self,
        key: &RequestKey,
        interval: Duration,
        origin: Option<&str>,
    ) -> Result<(), StateError> {
        self.intervals.insert(*key, interval);
        if let Some(origin) = origin {
            self.traces.insert(*key, origin.into());
        }
        Ok(())
    }

    async fn check(&self, key: &RequestKey, caller: &CallerDigest) -> Result<Checked, StateError> {
        let now = self.now();
        let too_early = self
            .polls
            .get(key)
            // The digest is an HMAC of the poll's credentials: compared in constant time.
            .filter(|p| bool::from(p.caller_digest[..].ct_eq(&caller[..])))
            .is_some_and(|last| {
                let interval = self
                    .intervals
                    .get(key)
                    .unwrap_or(self.policy.default_interval);
                let minimum = interval.saturating_sub(self.policy.leeway).as_micros();
                u128::from(now.saturating_sub(last.at)) < minimum
            });
        Ok(Checked {
            verdict: if too_early {
                PollCheck::TooEarly
            } else {
                PollCheck::Forward(Arrival(now))
            },
            origin: self.traces.get(key).map(|o| o.to_string()),
        })
    }

    async fn record_poll(
        &self,
        key: &RequestKey,
        caller: &CallerDigest,
        arrival: Option<Arrival>,
    ) -> Result<(), StateError> {
        if self.ready.contains_key(key) {
            return Ok(());
        }
        let at = arrival.map_or_else(|| self.now(), |a| a.0);
        let polled = Polled {
            caller_digest: *caller,
            at,
        };
        self.polls.insert(*key, polled);
        // `forget` may have run between the check and the insert: it marks before it removes,
        // so looking again settles every interleaving.
        if self.ready.contains_key(key) {
            self.polls.invalidate(key);
        }
        Ok(())
    }

    async fn forget(&self, key: &RequestKey) -> Result<(), StateError> {
        self.ready.insert(*key, ());
        self.polls.invalidate(key);
        self.intervals.invalidate(key);
        Ok(())
    }
}
