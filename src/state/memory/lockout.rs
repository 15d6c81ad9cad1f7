//! The user-code failures of SPEC §4 step 2: per subject or hint, the guesses that count (wrong
//! or not yet settled) with the time each began, in a bounded cache. Beginning a guess checks
//! and counts it under one lock, so concurrent guesses never get past the limit.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::MemoryState;
use crate::state::{Attempt, CodeFailures, Guess, Guesser, StateError};

/// Subjects and hints tracked at once; the least recently used are forgotten beyond this.
const MAX_TRACKED: u64 = 100_000;

/// Subjects and hints are kept apart: a subject spelled like a hint never shares its count.
pub(super) type Who = (bool, String);

/// The guesses of one subject or hint: id and when it began, oldest first.
pub(super) type Failures = Arc<Mutex<Vec<(u128, Instant)>>>;

pub(super) fn cache(window: Duration) -> moka::sync::Cache<Who, Failures> {
    moka::sync::Cache::builder()
        .max_capacity(MAX_TRACKED)
        // A subject untouched for a whole window has no guess left inside it.
        .time_to_idle(window)
        .build()
}

fn who(guesser: Guesser<'_>) -> Who {
    match guesser {
        Guesser::Subject(subject) => (false, subject.to_owned()),
        Guesser::Hint(hint) => (true, hint.to_owned()),
    }
}

impl CodeFailures for MemoryState {
    async fn begin_attempt(&self, guesser: Guesser<'_>) -> Result<Attempt, StateError> {
        let entry = self.failures.get_with(who(guesser), Failures::default);
        let mut guesses = entry.lock().unwrap_or_else(|e| e.into_inner());
        let now = self.clock.instant();
        let window = self.guards.failure_window;
        guesses.retain(|(_, at)| now.saturating_duration_since(*at) < window);
        if guesses.len() >= self.guards.max_failures {
            return Ok(Attempt::Locked);
        }
        let guess = rand::Rng::gen(&mut rand::thread_rng());
        guesses.push((guess, now));
        Ok(Attempt::Begun(Guess(guess)))
    }

    async fn settle_attempt(
        &self,
        guesser: Guesser<'_>,
        guess: Guess,
        correct: bool,
    ) -> Result<(), StateError> {
        // A wrong guess already counts, from when it began.
        if !correct {
            return Ok(());
        }
        if let Some(entry) = self.failures.get(&who(guesser)) {
            let mut guesses = entry.lock().unwrap_or_else(|e| e.into_inner());
            guesses.retain(|(id, _)| *id != guess.0);
        }
        Ok(())
    }
}
