//! The clock seam: every timer of the gateway (and of the emulator) reads time from here, so
//! tests can move time forward instead of sleeping.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A future returned by `Clock::sleep_until`.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A source of wall-clock and monotonic time.
pub trait Clock: Send + Sync + 'static {
    /// Wall-clock time, for timestamps that leave the process (`exp`, `expires_at`).
    fn now(&self) -> SystemTime;
    /// Monotonic time, for intervals measured inside the process.
    fn instant(&self) -> Instant;
    /// Completes once `instant()` has reached `deadline`.
    fn sleep_until(&self, deadline: Instant) -> Sleep;

    /// Whole seconds since the Unix epoch.
    fn unix_secs(&self) -> u64 {
        self.now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }

    /// Milliseconds since the Unix epoch.
    fn unix_millis(&self) -> u64 {
        self.now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }
}

/// The clock shared by everything that needs one.
pub type SharedClock = Arc<dyn Clock>;

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
    fn instant(&self) -> Instant {
        Instant::now()
    }
    fn sleep_until(&self, deadline: Instant) -> Sleep {
        Box::pin(tokio::time::sleep_until(deadline.into()))
    }
}

/// A clock that moves only when told to; for tests.
pub struct ManualClock {
    start_wall: SystemTime,
    start_instant: Instant,
    offset: Mutex<Duration>,
    /// Wakes sleepers whenever the clock moves.
    moved: tokio::sync::watch::Sender<Duration>,
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl ManualClock {
    pub fn new() -> Self {
        Self {
            start_wall: SystemTime::now(),
            start_instant: Instant::now(),
            offset: Mutex::new(Duration::ZERO),
            moved: tokio::sync::watch::channel(Duration::ZERO).0,
        }
    }

    /// Moves both clocks forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut offset = self.offset.lock().unwrap_or_else(|e| e.into_inner());
        *offset += by;
        self.moved.send_replace(*offset);
    }

    /// How many `sleep_until` futures are waiting: lets a test move the clock only once the
    /// timer it means to end has been set.
    pub fn sleepers(&self) -> usize {
        self.moved.receiver_count()
    }

    fn offset(&self) -> Duration {
        *self.offset.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        self.start_wall + self.offset()
    }
    fn instant(&self) -> Instant {
        self.start_instant + self.offset()
    }
    fn sleep_until(&self, deadline: Instant) -> Sleep {
        let target = deadline.saturating_duration_since(self.start_instant);
        let mut moved = self.moved.subscribe();
        Box::pin(async move {
            // Sleeps until the clock is advanced past the deadline, never on real time.
            while *moved.borrow_and_update() < target {
                if moved.changed().await.is_err() {
                    return;
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_manual_sleep_ends_once_the_clock_reaches_its_deadline() {
        let clock = ManualClock::new();
        let deadline = clock.instant() + Duration::from_secs(5);
        let sleep = clock.sleep_until(deadline);
        assert_eq!(clock.sleepers(), 1);
        clock.advance(Duration::from_secs(4));
        let early = tokio::time::timeout(Duration::from_millis(20), sleep).await;
        assert!(early.is_err(), "ended a second early");
        let sleep = clock.sleep_until(deadline);
        clock.advance(Duration::from_secs(1));
        sleep.await;
        assert_eq!(clock.sleepers(), 0);
    }
}
