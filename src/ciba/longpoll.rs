//! Long polling at the token endpoint (CIBA Core §10.1, SPEC §14): a CIBA grant request that
//! Authlete answers `authorization_pending` is held open ("parked") until the request is settled
//! — a decision or a deadline applied on any replica wakes it, and the token endpoint then asks
//! Authlete again — or until `ciba.long_poll_timeout_secs`, or until shutdown begins.
//!
//! A poll takes its place before it calls Authlete, so that a wake-up arriving during that call
//! is not missed; it counts as parked (`gateway_long_polls_parked`) only once Authlete answered
//! pending. At most `ciba.max_parked_polls` places per replica: beyond them a poll is answered
//! at once, as without long polling. A client that disconnects drops its request, and with it
//! its place (cause `disconnect`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::clock::SharedClock;
use crate::config::Settings;
use crate::metrics::Metrics;
use crate::state::{RequestKey, State, Waiter, Wake, WakeCause};

/// The long polling of this replica.
pub struct LongPolling {
    enabled: bool,
    timeout: Duration,
    max_places: usize,
    state: Arc<State>,
    clock: SharedClock,
    metrics: Metrics,
    /// Places taken (parked, or calling Authlete before parking).
    taken: AtomicUsize,
    /// Cancelled when shutdown begins: parked polls are answered at once, none parks after.
    closing: CancellationToken,
}

/// How a parked poll ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Woken {
    /// The request was settled: ask Authlete again.
    Settled(Wake),
    /// `ciba.long_poll_timeout_secs` passed: answer the pending answer.
    Timeout,
    /// Shutdown began: answer the pending answer.
    Shutdown,
}

impl LongPolling {
    pub fn new(
        settings: &Settings,
        state: Arc<State>,
        clock: SharedClock,
        metrics: Metrics,
    ) -> Self {
        Self {
            enabled: settings.ciba.long_polling,
            timeout: settings.ciba.long_poll_timeout,
            max_places: settings.ciba.max_parked_polls,
            state,
            clock,
            metrics,
            taken: AtomicUsize::new(0),
            closing: CancellationToken::new(),
        }
    }

    /// Whether long polling is on (`ciba.long_polling`).
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// A place for a poll of the request `key`, taken before Authlete is called; `None` when
    /// long polling is off, shutdown has begun, or every place is taken.
    pub fn place(&self, key: &RequestKey) -> Option<Place<'_>> {
        if !self.enabled || self.closing.is_cancelled() {
            return None;
        }
        let taken = self
            .taken
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |taken| {
                (taken < self.max_places).then_some(taken + 1)
            });
        if taken.is_err() {
            log::debug!(
                "long polling: all {} places are taken; the poll is answered at once",
                self.max_places
            );
            return None;
        }
        Some(Place {
            polling: self,
            waiter: self.state.await_wake(key),
            parked: false,
        })
    }

    /// Shutdown begins: every parked poll is answered now, and no poll parks any more.
    pub fn close(&self) {
        self.closing.cancel();
    }

    /// How long a decision's wake-up took to become tokens, from the decision's own clock.
    pub fn observe_decision_to_token(&self, wake: &Wake) {
        let now = self.clock.unix_millis();
        let millis = now.saturating_sub(wake.applied_at_ms);
        self.metrics
            .decision_to_token
            .observe(Duration::from_millis(millis).as_secs_f64());
    }

    fn count(&self, cause: &str) {
        self.metrics
            .long_poll_wakeups
            .with_label_values(&[cause])
            .inc();
    }
}

/// A poll's place; given back when dropped (when the client disconnects while parked, that is
/// the wake-up cause `disconnect`).
pub struct Place<'a> {
    polling: &'a LongPolling,
    waiter: Waiter,
    parked: bool,
}

impl Place<'_> {
    /// Holds the poll, which Authlete answered `authorization_pending`, until its request is
    /// settled, the timeout passes, or shutdown begins.
    pub async fn park(&mut self) -> Woken {
        let polling = self.polling;
        self.parked = true;
        polling.metrics.long_polls_parked.inc();
        let timeout = polling
            .clock
            .sleep_until(polling.clock.instant() + polling.timeout);
        let woken = tokio::select! {
            wake = self.waiter.woken() => Woken::Settled(wake),
            () = timeout => Woken::Timeout,
            () = polling.closing.cancelled() => Woken::Shutdown,
        };
        self.parked = false;
        polling.metrics.long_polls_parked.dec();
        polling.count(match woken {
            Woken::Settled(wake) => wake.cause.label(),
            Woken::Timeout => "timeout",
            Woken::Shutdown => "shutdown",
        });
        woken
    }
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        let polling = self.polling;
        if self.parked {
            polling.metrics.long_polls_parked.dec();
            polling.count("disconnect");
        }
        polling.taken.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The wake-up cause of a request settled by the gateway's own deadline: a poll request's
/// deadline is its expiry; a ping/push request's comes earlier.
pub fn deadline_cause(notifies: bool) -> WakeCause {
    if notifies {
        WakeCause::Deadline
    } else {
        WakeCause::Expiry
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn polling(adjust: &str) -> (LongPolling, Arc<ManualClock>, Metrics) {
        let clock = Arc::new(ManualClock::new());
        let metrics = Metrics::new();
        let more = format!("[ciba]\nlong_polling = true\nlong_poll_timeout_secs = 5\n{adjust}");
        let (settings, state) =
            crate::state::memory_for_tests(&more, clock.clone(), metrics.clone());
        let polling = LongPolling::new(&settings, Arc::new(state), clock.clone(), metrics.clone());
        (polling, clock, metrics)
    }

    fn wakeups(metrics: &Metrics, cause: &str) -> u64 {
        metrics.long_poll_wakeups.with_label_values(&[cause]).get()
    }

    #[tokio::test]
    async fn a_wake_up_that_comes_before_the_poll_parks_is_not_missed() {
        let (polling, _, metrics) = polling("");
        let mut place = polling.place(&[1; 32]).unwrap_or_else(|| panic!("a place"));
        let wake = Wake {
            cause: WakeCause::Decision,
            applied_at_ms: 1,
        };
        polling.state.wake(&[1; 32], wake).await;
        assert_eq!(place.park().await, Woken::Settled(wake));
        assert_eq!(wakeups(&metrics, "decision"), 1);
        assert_eq!(metrics.long_polls_parked.get(), 0.0);
    }

    #[tokio::test]
    async fn a_parked_poll_times_out_on_the_clock() {
        let (polling, clock, metrics) = polling("");
        let mut place = polling.place(&[1; 32]).unwrap_or_else(|| panic!("a place"));
        let parked = place.park();
        let advance = async {
            while clock.sleepers() == 0 {
                tokio::task::yield_now().await;
            }
            assert_eq!(metrics.long_polls_parked.get(), 1.0);
            clock.advance(Duration::from_secs(5));
        };
        let (woken, ()) = tokio::join!(parked, advance);
        assert_eq!(woken, Woken::Timeout);
        assert_eq!(wakeups(&metrics, "timeout"), 1);
    }

    #[tokio::test]
    async fn places_are_bounded_given_back_and_refused_after_close() {
        let (polling, _, metrics) = polling("max_parked_polls = 1\n");
        let first = polling.place(&[1; 32]);
        assert!(first.is_some());
        assert!(polling.place(&[2; 32]).is_none(), "the one place is taken");
        drop(first);
        let mut again = polling.place(&[2; 32]).unwrap_or_else(|| panic!("a place"));
        polling.close();
        assert_eq!(again.park().await, Woken::Shutdown);
        drop(again);
        assert!(polling.place(&[3; 32]).is_none(), "closing");
        assert_eq!(wakeups(&metrics, "shutdown"), 1);
        assert_eq!(wakeups(&metrics, "disconnect"), 0);
    }

    #[tokio::test]
    async fn a_place_dropped_while_parked_counts_a_disconnect() {
        let (polling, _, metrics) = polling("");
        let mut place = polling.place(&[1; 32]).unwrap_or_else(|| panic!("a place"));
        {
            let parked = place.park();
            let timeout = tokio::time::sleep(Duration::from_millis(10));
            tokio::select! {
                _ = parked => panic!("nothing wakes it"),
                () = timeout => {}
            }
        }
        assert_eq!(metrics.long_polls_parked.get(), 1.0);
        drop(place);
        assert_eq!(metrics.long_polls_parked.get(), 0.0);
        assert_eq!(wakeups(&metrics, "disconnect"), 1);
        assert_eq!(polling.taken.load(Ordering::Acquire), 0);
    }

    #[test]
    fn a_poll_requests_deadline_is_its_expiry() {
        assert_eq!(deadline_cause(false), WakeCause::Expiry);
        assert_eq!(deadline_cause(true), WakeCause::Deadline);
    }
}
