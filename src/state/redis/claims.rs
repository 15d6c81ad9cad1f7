//! Completion claims and the shared deadlines (SPEC §5.3, §12) in Redis: each claim a hash
//! under the HMAC of its ticket; the deadlines one sorted set of entry digests, scheduled with
//! the registry entry (`registry_insert.lua`) and leased by re-scoring.

use std::time::Duration;

use redis::{FromRedisValue, Script, ToRedisArgs};

use super::{millis, RedisState};
use crate::state::{
    Claim, ClaimToken, Completions, DeadlineLease, Deadlines, DueDeadline, StateError,
};

impl RedisState {
    /// Runs `script` (its KEYS named by `keys`) with `args`.
    async fn invoke<T, A>(
        &self,
        script: impl Fn(&super::Scripts) -> &Script + Send + 'static,
        keys: Vec<String>,
        args: A,
    ) -> Result<T, StateError>
    where
        T: FromRedisValue + Send + 'static,
        A: ToRedisArgs + Send + 'static,
    {
        let scripts = self.scripts.clone();
        self.link
            .run(move |mut c| async move {
                let mut invocation = script(&scripts).prepare_invoke();
                for key in keys {
                    invocation.key(key);
                }
                invocation.arg(args).invoke_async(&mut c).await
            })
            .await
    }

    fn claim_key(&self, ticket: &str) -> Vec<String> {
        vec![self.keys.claim(&self.keys.ticket_digest(ticket))]
    }

    fn deadline_keys(&self) -> Vec<String> {
        vec![self.keys.deadlines(), self.keys.deadline_holders()]
    }
}

impl Completions for RedisState {
    async fn claim_completion(&self, ticket: &str, token: ClaimToken) -> Result<Claim, StateError> {
        let args = (token.to_string(), millis(self.lease), self.ttl_ms());
        let (found, takeover): (u8, u8) = self
            .invoke(|s| &s.claim_take, self.claim_key(ticket), args)
            .await?;
        Ok(match found {
            0 => Claim::Taken {
                takeover: takeover == 1,
            },
            1 => Claim::Held,
            _ => Claim::Done,
        })
    }

    async fn renew_claim(&self, ticket: &str, token: ClaimToken) -> Result<bool, StateError> {
        let args = (token.to_string(), millis(self.lease));
        let renewed: u8 = self
            .invoke(|s| &s.claim_renew, self.claim_key(ticket), args)
            .await?;
        Ok(renewed == 1)
    }

    async fn release_claim(&self, ticket: &str, token: ClaimToken) -> Result<(), StateError> {
        let key = self.claim_key(ticket);
        let _: u8 = self
            .invoke(|s| &s.claim_release, key, token.to_string())
            .await?;
        Ok(())
    }

    async fn finish_claim(&self, ticket: &str, keep: Duration) -> Result<(), StateError> {
        let key = self.claim_key(ticket);
        let _: u8 = self
            .invoke(|s| &s.claim_finish, key, millis(keep).max(1))
            .await?;
        Ok(())
    }
}

impl Deadlines for RedisState {
    async fn claim_due(&self, limit: usize) -> Result<Vec<DueDeadline>, StateError> {
        let holder = format!("{}/{}", self.replica, ClaimToken::random());
        let args = (holder, millis(self.lease), limit);
        let due: Vec<(String, String, u8)> = self
            .invoke(|s| &s.deadline_claim, self.deadline_keys(), args)
            .await?;
        if due.is_empty() {
            return Ok(Vec::new());
        }
        let names: Vec<String> = due.iter().map(|(d, _, _)| self.keys.request(d)).collect();
        let entries: Vec<Option<Vec<u8>>> = self
            .link
            .run(
                move |mut c| async move { redis::cmd("MGET").arg(names).query_async(&mut c).await },
            )
            .await?;
        let mut claimed = Vec::new();
        let mut dropped = Vec::new();
        for ((digest, holder, reclaimed), entry) in due.into_iter().zip(entries) {
            // Gone (expired, or settled meanwhile), or sealed under a retired key: nothing any
            // replica could run.
            match entry.and_then(|sealed| self.open_listing(&sealed)) {
                Some(listing) => claimed.push(DueDeadline {
                    listing,
                    lease: DeadlineLease(holder),
                    reclaimed: reclaimed == 1,
                }),
                None => dropped.push(digest),
            }
        }
        if !dropped.is_empty() {
            let (deadlines, holders) = (self.keys.deadlines(), self.keys.deadline_holders());
            let dropping = self.link.run(move |mut c| async move {
                redis::pipe()
                    .atomic()
                    .zrem(&deadlines, &dropped)
                    .hdel(&holders, &dropped)
                    .query_async::<()>(&mut c)
                    .await
            });
            if let Err(e) = dropping.await {
                log::debug!("deadlines without an entry not dropped yet: {e}");
            }
        }
        Ok(claimed)
    }

    async fn renew_deadline(
        &self,
        ticket: &str,
        lease: &DeadlineLease,
    ) -> Result<bool, StateError> {
        let args = (
            self.keys.ticket_digest(ticket),
            lease.0.clone(),
            millis(self.lease),
        );
        let renewed: u8 = self
            .invoke(|s| &s.deadline_renew, self.deadline_keys(), args)
            .await?;
        Ok(renewed == 1)
    }

    async fn postpone(
        &self,
        ticket: &str,
        lease: &DeadlineLease,
        after: Duration,
    ) -> Result<(), StateError> {
        let args = (
            self.keys.ticket_digest(ticket),
            lease.0.clone(),
            millis(after),
        );
        let _: u8 = self
            .invoke(|s| &s.deadline_postpone, self.deadline_keys(), args)
            .await?;
        Ok(())
    }
}
