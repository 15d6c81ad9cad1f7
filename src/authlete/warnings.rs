//! Authlete's `warnings`: logged at warn level, each distinct message at most once a minute, so
//! that a configuration Authlete warns about on every call is seen without flooding the log.

use std::fmt;
use std::time::{Duration, Instant};

use moka::ops::compute::{CompResult, Op};

use super::api::Api;
use crate::clock::SharedClock;

/// A message is logged again once this much time has passed since it was last logged.
const WINDOW: Duration = Duration::from_secs(60);
/// Distinct messages remembered; beyond it the least used are forgotten (and may be logged again
/// within their minute), so memory stays bounded whatever Authlete sends.
const MAX_MESSAGES: u64 = 1_000;
/// Characters of a message kept, both as its key and in the log line.
const MAX_MESSAGE_CHARS: usize = 256;

/// Shared by every Authlete client of the process; built once.
pub struct WarningLog {
    /// Message → when it was last logged, on the injected clock.
    logged: moka::sync::Cache<String, Instant>,
    clock: SharedClock,
}

impl fmt::Debug for WarningLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WarningLog").finish_non_exhaustive()
    }
}

impl WarningLog {
    pub fn new(clock: SharedClock) -> Self {
        Self {
            // The TTL only frees memory; whether to log is decided on the injected clock.
            logged: moka::sync::Cache::builder()
                .max_capacity(MAX_MESSAGES)
                .time_to_live(WINDOW)
                .build(),
            clock,
        }
    }

    /// Logs the `warnings` of one answer from `api`. They are Authlete's own texts about the
    /// call; no credential of ours is in them, and `{:?}` keeps them on one line.
    pub fn log(&self, api: Api, warnings: &[String], request_id: &str) {
        for warning in warnings {
            let message: String = warning.chars().take(MAX_MESSAGE_CHARS).collect();
            if self.first_in_window(&message) {
                log::warn!(
                    request_id = request_id; "api={} Authlete warns: {message:?}",
                    api.name()
                );
            }
        }
    }

    /// True when `message` was not logged within the last `WINDOW`; records it as logged now.
    fn first_in_window(&self, message: &str) -> bool {
        let now = self.clock.instant();
        // One key-level lock: concurrent calls with the same message log it once.
        let entry = self.logged.entry(message.to_owned());
        let result = entry.and_compute_with(|logged| match logged {
            Some(at) if now.saturating_duration_since(*at.value()) < WINDOW => Op::Nop,
            _ => Op::Put(now),
        });
        matches!(
            result,
            CompResult::Inserted(_) | CompResult::ReplacedWith(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn each_message_is_logged_once_a_minute() {
        let clock = Arc::new(ManualClock::new());
        let log = WarningLog::new(clock.clone());
        assert!(log.first_in_window("a"));
        assert!(!log.first_in_window("a"));
        assert!(log.first_in_window("b"), "messages are counted apart");
        clock.advance(Duration::from_secs(59));
        assert!(!log.first_in_window("a"));
        clock.advance(Duration::from_secs(1));
        assert!(log.first_in_window("a"));
        assert!(!log.first_in_window("a"));
        assert!(log.first_in_window("b"));
    }

    #[test]
    fn the_window_counts_from_the_last_logged_time() {
        let clock = Arc::new(ManualClock::new());
        let log = WarningLog::new(clock.clone());
        assert!(log.first_in_window("a"));
        clock.advance(Duration::from_secs(30));
        assert!(
            !log.first_in_window("a"),
            "a suppressed repeat does not move it"
        );
        clock.advance(Duration::from_secs(30));
        assert!(log.first_in_window("a"));
    }

    #[test]
    fn memory_stays_bounded_by_the_capacity() {
        let clock = Arc::new(ManualClock::new());
        let log = WarningLog::new(clock);
        for i in 0..(MAX_MESSAGES * 3) {
            log.first_in_window(&format!("message {i}"));
        }
        log.logged.run_pending_tasks();
        assert!(log.logged.entry_count() <= MAX_MESSAGES);
    }
}
