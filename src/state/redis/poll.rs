//! The poll entries of SPEC §3.2 in Redis: one hash per request, each check-and-change one
//! script, time from Redis's `TIME`.

use std::time::Duration;

use super::{millis, RedisState};
use crate::state::{
    Arrival, CallerDigest, Checked, PollCheck, PollEntries, RequestKey, StateError,
};

impl PollEntries for RedisState {
    async fn record_interval(
        &self,
        key: &RequestKey,
        interval: Duration,
        origin: Option<&str>,
    ) -> Result<(), StateError> {
        let (scripts, name, ttl) = (self.scripts.clone(), self.keys.poll(key), self.ttl_ms());
        let origin = origin.unwrap_or_default().to_owned();
        self.link
            .run(move |mut c| async move {
                scripts
                    .poll_interval
                    .key(name)
                    .arg(millis(interval))
                    .arg(ttl)
                    .arg(&origin)
                    .invoke_async::<i64>(&mut c)
                    .await
            })
            .await
            .map(drop)
    }

    async fn check(&self, key: &RequestKey, caller: &CallerDigest) -> Result<Checked, StateError> {
        let (scripts, name, caller) = (self.scripts.clone(), self.keys.poll(key), *caller);
        let (default, leeway) = (
            millis(self.policy.default_interval),
            millis(self.policy.leeway),
        );
        let (too_early, now, origin): (i64, u64, Option<String>) = self
            .link
            .run(move |mut c| async move {
                scripts
                    .poll_check
                    .key(name)
                    .arg(&caller[..])
                    .arg(default)
                    .arg(leeway)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        let verdict = if too_early == 1 {
            PollCheck::TooEarly
        } else {
            PollCheck::Forward(Arrival(now))
        };
        Ok(Checked { verdict, origin })
    }

    async fn record_poll(
        &self,
        key: &RequestKey,
        caller: &CallerDigest,
        arrival: Option<Arrival>,
    ) -> Result<(), StateError> {
        let (scripts, name, caller, ttl) = (
            self.scripts.clone(),
            self.keys.poll(key),
            *caller,
            self.ttl_ms(),
        );
        let at = arrival.map(|a| a.0.to_string()).unwrap_or_default();
        self.link
            .run(move |mut c| async move {
                scripts
                    .poll_record
                    .key(name)
                    .arg(&caller[..])
                    .arg(at)
                    .arg(ttl)
                    .invoke_async::<i64>(&mut c)
                    .await
            })
            .await
            .map(drop)
    }

    async fn forget(&self, key: &RequestKey) -> Result<(), StateError> {
        let (scripts, name, ttl) = (self.scripts.clone(), self.keys.poll(key), self.ttl_ms());
        self.link
            .run(move |mut c| async move {
                scripts
                    .poll_forget
                    .key(name)
                    .arg(ttl)
                    .invoke_async::<i64>(&mut c)
                    .await
            })
            .await
            .map(drop)
    }
}
