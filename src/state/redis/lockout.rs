//! The user-code failures of SPEC §4 step 2 in Redis: one sorted set per subject or hint,
//! trimmed to the window by the scripts, time from Redis's `TIME`.

use super::{millis, operation_id, RedisState, TTL_GRACE};
use crate::state::{CodeFailures, StateError};

impl CodeFailures for RedisState {
    async fn is_locked(&self, who: &str) -> Result<bool, StateError> {
        let (scripts, name, g) = (self.scripts.clone(), self.keys.failures(who), self.guards);
        let locked: i64 = self
            .link
            .run(move |mut c| async move {
                scripts
                    .lockout_check
                    .key(name)
                    .arg(millis(g.failure_window))
                    .arg(g.max_failures)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(locked == 1)
    }

    async fn record_failure(&self, who: &str) -> Result<(), StateError> {
        let (scripts, name, g) = (self.scripts.clone(), self.keys.failures(who), self.guards);
        let id = format!("{:032x}", operation_id());
        self.link
            .run(move |mut c| async move {
                scripts
                    .lockout_record
                    .key(name)
                    .arg(id)
                    .arg(millis(g.failure_window))
                    .arg(g.max_failures)
                    .arg(millis(g.failure_window + TTL_GRACE))
                    .invoke_async::<i64>(&mut c)
                    .await
            })
            .await
            .map(drop)
    }
}
