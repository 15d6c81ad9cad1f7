//! The user-code guesses of SPEC §4 step 2 in Redis: one sorted set per subject or hint,
//! beginning a guess one script (check and count together), time from Redis's `TIME`.

use super::{millis, operation_id, RedisState, TTL_GRACE};
use crate::state::{Attempt, CodeFailures, Guess, Guesser, StateError};

fn member(guess: Guess) -> String {
    format!("{:032x}", guess.0)
}

impl CodeFailures for RedisState {
    async fn begin_attempt(&self, who: Guesser<'_>) -> Result<Attempt, StateError> {
        let guess = Guess(operation_id());
        let (scripts, name, g) = (self.scripts.clone(), self.keys.failures(who), self.guards);
        let id = member(guess);
        let begun: i64 = self
            .link
            .run(move |mut c| async move {
                scripts
                    .lockout_begin
                    .key(name)
                    .arg(id)
                    .arg(millis(g.failure_window))
                    .arg(g.max_failures)
                    .arg(millis(g.failure_window + TTL_GRACE))
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(if begun == 1 {
            Attempt::Begun(guess)
        } else {
            Attempt::Locked
        })
    }

    async fn settle_attempt(
        &self,
        who: Guesser<'_>,
        guess: Guess,
        correct: bool,
    ) -> Result<(), StateError> {
        // A wrong guess already counts, from when it began: nothing to write.
        if !correct {
            return Ok(());
        }
        // One command: removing leaves the TTL as it was.
        let (name, id) = (self.keys.failures(who), member(guess));
        self.link
            .run(move |mut c| async move {
                redis::cmd("ZREM")
                    .arg(name)
                    .arg(id)
                    .query_async::<i64>(&mut c)
                    .await
            })
            .await
            .map(drop)
    }
}
