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
