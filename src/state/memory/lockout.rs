//! The user-code failures of SPEC §4 step 2: the times of the newest wrong codes of each
//! subject or hint, in a bounded cache.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::MemoryState;
use crate::state::{CodeFailures, StateError};

/// Subjects and hints tracked at once; the least recently used are forgotten beyond this.
const MAX_TRACKED: u64 = 100_000;

pub(super) type Failures = Arc<Mutex<VecDeque<Instant>>>;

pub(super) fn cache(window: Duration) -> moka::sync::Cache<String, Failures> {
    moka::sync::Cache::builder()
        .max_capacity(MAX_TRACKED)
        // A subject untouched for a whole window has no failure left inside it.
        .time_to_idle(window)
        .build()
}

impl MemoryState {
    fn prune(&self, failures: &mut VecDeque<Instant>) {
        let now = self.clock.instant();
        while failures
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= self.guards.failure_window)
        {
            failures.pop_front();
        }
    }
}

impl CodeFailures for MemoryState {
    async fn is_locked(&self, who: &str) -> Result<bool, StateError> {
        let Some(entry) = self.failures.get(who) else {
            return Ok(false);
        };
        let mut failures = entry.lock().unwrap_or_else(|e| e.into_inner());
        self.prune(&mut failures);
        Ok(failures.len() >= self.guards.max_failures)
    }

    async fn record_failure(&self, who: &str) -> Result<(), StateError> {
        let entry = self
            .failures
            .get_with(who.to_owned(), || Arc::new(Mutex::new(VecDeque::new())));
        let mut failures = entry.lock().unwrap_or_else(|e| e.into_inner());
        self.prune(&mut failures);
        failures.push_back(self.clock.instant());
        // Only the newest `max_failures` can matter.
        while failures.len() > self.guards.max_failures {
            failures.pop_front();
        }
        Ok(())
    }
}
