//! User-code lockout: after `ciba.user_code_max_failures` wrong codes within
//! `ciba.user_code_failure_window_secs`, a subject's requests that need a code are refused
//! until the oldest failure leaves the window.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::clock::SharedClock;

/// Subjects tracked at once; the least recently used are forgotten beyond this.
const MAX_TRACKED_SUBJECTS: u64 = 100_000;

type Failures = Arc<Mutex<VecDeque<Instant>>>;

pub struct UserCodeLockout {
    failures: moka::sync::Cache<String, Failures>,
    max_failures: usize,
    window: Duration,
    clock: SharedClock,
}

impl UserCodeLockout {
    pub fn new(max_failures: usize, window: Duration, clock: SharedClock) -> Self {
        Self {
            failures: moka::sync::Cache::builder()
                .max_capacity(MAX_TRACKED_SUBJECTS)
                // A subject untouched for a whole window has no failure left inside it.
                .time_to_idle(window)
                .build(),
            max_failures,
            window,
            clock,
        }
    }

    /// True while `subject` has reached the limit within the window.
    pub fn is_locked(&self, subject: &str) -> bool {
        let Some(entry) = self.failures.get(subject) else {
            return false;
        };
        let mut failures = entry.lock().unwrap_or_else(|e| e.into_inner());
        self.prune(&mut failures);
        failures.len() >= self.max_failures
    }

    /// Records one wrong code for `subject`.
    pub fn record_failure(&self, subject: &str) {
        let entry = self
            .failures
            .get_with(subject.to_owned(), || Arc::new(Mutex::new(VecDeque::new())));
        let mut failures = entry.lock().unwrap_or_else(|e| e.into_inner());
        self.prune(&mut failures);
        failures.push_back(self.clock.instant());
        // Only the newest `max_failures` can matter.
        while failures.len() > self.max_failures {
            failures.pop_front();
        }
    }

    fn prune(&self, failures: &mut VecDeque<Instant>) {
        let now = self.clock.instant();
        while failures
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= self.window)
        {
            failures.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn locks_at_the_limit_and_unlocks_when_the_oldest_failure_leaves_the_window() {
        let clock = Arc::new(ManualClock::new());
        let lockout = UserCodeLockout::new(3, Duration::from_secs(60), clock.clone());
        lockout.record_failure("alice");
        clock.advance(Duration::from_secs(10));
        lockout.record_failure("alice");
        assert!(!lockout.is_locked("alice"));
        lockout.record_failure("alice");
        assert!(lockout.is_locked("alice"));
        assert!(!lockout.is_locked("bob"));
        clock.advance(Duration::from_secs(50));
        assert!(
            !lockout.is_locked("alice"),
            "the first failure left the window"
        );
    }
}
