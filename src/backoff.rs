//! How long to wait before the next attempt: exponential backoff with jitter, and the
//! receiver's own `Retry-After` (parsed by `outbound::retry_after`). Shared by the outbox's
//! deliveries and the deadline's `/complete` retries.

use std::time::{Duration, SystemTime};

use rand::Rng;

use crate::outbound::retry_after;

/// The first retry waits about this long; each further retry doubles it up to the cap.
const BASE_BACKOFF: Duration = Duration::from_millis(500);

/// The wait before retry number `retry` (1 for the first retry), capped at `cap`.
///
/// "Equal jitter": half of the exponential step is fixed and half random, so waits still grow
/// while receivers that failed together do not all come back at the same instant.
pub fn backoff(retry: u32, cap: Duration) -> Duration {
    // 2^16 × 500 ms already exceeds any sensible cap; the clamp keeps the shift defined.
    let exponent = retry.saturating_sub(1).min(16);
    let ceiling = BASE_BACKOFF.saturating_mul(1 << exponent).min(cap);
    let half = ceiling / 2;
    let jitter_ms = rand::thread_rng().gen_range(0..=duration_ms(ceiling - half));
    half + Duration::from_millis(jitter_ms)
}

fn duration_ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The wait before the next attempt: the backoff, or the receiver's `Retry-After` when that is
/// longer (a shorter one would let a receiver pull retries faster than the backoff). None when
/// the next attempt would not start before `deadline`: delivery ends there.
pub fn next_wait(
    backoff: Duration,
    retry_after_header: Option<&str>,
    now: SystemTime,
    deadline: SystemTime,
) -> Option<Duration> {
    let asked = retry_after_header.and_then(|value| retry_after(value, now));
    let wait = asked.map_or(backoff, |asked| asked.max(backoff));
    let remaining = deadline.duration_since(now).ok()?;
    (wait < remaining).then_some(wait)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_exponentially_with_jitter_below_the_cap() {
        let cap = Duration::from_secs(30);
        for _ in 0..100 {
            let first = backoff(1, cap);
            assert!(first >= Duration::from_millis(250) && first <= Duration::from_millis(500));
            let third = backoff(3, cap);
            assert!(third >= Duration::from_millis(1000) && third <= Duration::from_millis(2000));
        }
    }

    #[test]
    fn backoff_never_exceeds_the_cap() {
        let cap = Duration::from_millis(40);
        for retry in [1, 2, 10, 100, u32::MAX] {
            let wait = backoff(retry, cap);
            assert!(wait >= Duration::from_millis(20) && wait <= cap, "{wait:?}");
        }
    }

    #[test]
    fn the_next_wait_honours_a_longer_retry_after_within_the_deadline() {
        let now = SystemTime::now();
        let deadline = now + Duration::from_secs(10);
        let short = Duration::from_millis(50);
        assert_eq!(next_wait(short, None, now, deadline), Some(short));
        assert_eq!(
            next_wait(short, Some("2"), now, deadline),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            next_wait(Duration::from_secs(3), Some("0"), now, deadline),
            Some(Duration::from_secs(3))
        );
        assert_eq!(next_wait(short, Some("11"), now, deadline), None);
        assert_eq!(next_wait(short, None, deadline, deadline), None);
        assert_eq!(next_wait(short, None, deadline + short, deadline), None);
    }
}
