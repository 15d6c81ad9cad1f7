//! User-code lockout (SPEC §4 step 2): after `ciba.user_code_max_failures` wrong codes within
//! `ciba.user_code_failure_window_secs`, a subject's requests that need a code are refused
//! until the oldest failure leaves the window. The guesses live in the state backend
//! (`state::CodeFailures`): per replica with `memory`, per fleet with `redis`.
//!
//! Each guess is counted when it begins, atomically with the check, and withdrawn once it is
//! judged correct (or not judged at all): concurrent guesses never get more than the limit
//! judged within a window, and a guess whose outcome is never written counts as wrong.

use std::sync::Arc;

use crate::state::{Attempt, CodeFailures, Guess, Guesser, State, StateError};

pub struct UserCodeLockout {
    state: Arc<State>,
}

impl UserCodeLockout {
    pub fn new(state: Arc<State>) -> Self {
        Self { state }
    }

    /// Counts one guess for `who`, or answers `Locked` when `who` has reached the limit within
    /// the window. An error must not open the lock: the caller refuses the request (fails
    /// closed).
    pub async fn begin(&self, who: Guesser<'_>) -> Result<Attempt, StateError> {
        self.state.begin_attempt(who).await
    }

    /// Settles a guess `begin` counted: `correct` withdraws it, else it stays as a failure.
    /// When the withdrawal fails the guess keeps counting until it leaves the window (fails
    /// closed); the request itself goes on.
    pub async fn settle(&self, who: Guesser<'_>, guess: Guess, correct: bool) {
        if let Err(e) = self.state.settle_attempt(who, guess, correct).await {
            log::warn!("user-code lockout: a guess could not be withdrawn and counts: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::clock::ManualClock;
    use crate::metrics::Metrics;

    const GUARDS: &str =
        "\n[ciba]\nuser_code_max_failures = 3\nuser_code_failure_window_secs = 60\n";

    fn lockout() -> (UserCodeLockout, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new());
        let (_, state) = crate::state::memory_for_tests(GUARDS, clock.clone(), Metrics::new());
        (UserCodeLockout::new(Arc::new(state)), clock)
    }

    /// Begins a guess and settles it as `correct`; false when `who` was locked.
    async fn guess(lockout: &UserCodeLockout, who: Guesser<'_>, correct: bool) -> bool {
        match lockout.begin(who).await.unwrap() {
            Attempt::Begun(guess) => {
                lockout.settle(who, guess, correct).await;
                true
            }
            Attempt::Locked => false,
        }
    }

    #[tokio::test]
    async fn the_limit_of_wrong_guesses_locks_until_the_oldest_leaves_the_window() {
        let (lockout, clock) = lockout();
        let who = Guesser::Subject("alice");
        assert!(guess(&lockout, who, false).await);
        clock.advance(Duration::from_secs(10));
        assert!(guess(&lockout, who, false).await);
        assert!(guess(&lockout, who, false).await);
        assert!(!guess(&lockout, who, true).await, "locked at the limit");
        // The first failure is 59 s old, then exactly 60 s: it leaves the window at 60.
        clock.advance(Duration::from_secs(49));
        assert!(!guess(&lockout, who, true).await);
        clock.advance(Duration::from_secs(1));
        assert!(
            guess(&lockout, who, false).await,
            "one failure left the window"
        );
        assert!(!guess(&lockout, who, true).await);
    }

    #[tokio::test]
    async fn right_guesses_never_count_and_guessers_are_counted_apart() {
        let (lockout, _clock) = lockout();
        for _ in 0..10 {
            assert!(guess(&lockout, Guesser::Subject("bob"), true).await);
        }
        for _ in 0..3 {
            assert!(guess(&lockout, Guesser::Hint("bob"), false).await);
        }
        assert!(!guess(&lockout, Guesser::Hint("bob"), true).await);
        assert!(guess(&lockout, Guesser::Subject("bob"), true).await);
        assert!(guess(&lockout, Guesser::Hint("carol"), true).await);
    }

    #[tokio::test]
    async fn a_right_guess_withdraws_only_itself() {
        let (lockout, _clock) = lockout();
        let who = Guesser::Subject("erin");
        assert!(guess(&lockout, who, false).await);
        assert!(guess(&lockout, who, false).await);
        assert!(guess(&lockout, who, true).await);
        assert!(guess(&lockout, who, false).await);
        assert!(
            !guess(&lockout, who, true).await,
            "three wrong guesses still count"
        );
    }

    #[tokio::test]
    async fn an_unsettled_guess_counts_as_wrong() {
        let (lockout, _clock) = lockout();
        let who = Guesser::Subject("dave");
        for _ in 0..3 {
            assert!(matches!(
                lockout.begin(who).await.unwrap(),
                Attempt::Begun(_)
            ));
        }
        assert!(matches!(lockout.begin(who).await.unwrap(), Attempt::Locked));
    }
}
