//! Completion claims and the shared deadlines (SPEC §5.3, §12) in Redis: each claim a hash
//! under the HMAC of its ticket; the deadlines one sorted set of entry digests, scheduled with
//! the registry entry (`registry_insert.lua`) and leased by re-scoring.

use std::time::Duration;

use super::{millis, RedisState};
use crate::state::{Claim, ClaimToken, Completions, Deadlines, DueDeadline, StateError};

impl Completions for RedisState {
    async fn claim_completion(&self, ticket: &str) -> Result<Claim, StateError> {
        let token = ClaimToken(super::operation_id());
        let claim = self.keys.claim(&self.keys.ticket_digest(ticket));
        let (lease, ttl) = (millis(self.lease), self.ttl_ms());
        let scripts = self.scripts.clone();
        let (found, takeover): (u8, u8) = self
            .link
            .run(move |mut c| async move {
                scripts
                    .claim_take
                    .key(claim)
                    .arg(format!("{:032x}", token.0))
                    .arg(lease)
                    .arg(ttl)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(match found {
            0 => Claim::Taken {
                token,
                takeover: takeover == 1,
            },
            1 => Claim::Held,
            _ => Claim::Done,
        })
    }

    async fn renew_claim(&self, ticket: &str, token: ClaimToken) -> Result<bool, StateError> {
        let claim = self.keys.claim(&self.keys.ticket_digest(ticket));
        let lease = millis(self.lease);
        let scripts = self.scripts.clone();
        let renewed: u8 = self
            .link
            .run(move |mut c| async move {
                scripts
                    .claim_renew
                    .key(claim)
                    .arg(format!("{:032x}", token.0))
                    .arg(lease)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(renewed == 1)
    }

    async fn release_claim(&self, ticket: &str, token: ClaimToken) -> Result<(), StateError> {
        let claim = self.keys.claim(&self.keys.ticket_digest(ticket));
        let scripts = self.scripts.clone();
        self.link
            .run(move |mut c| async move {
                scripts
                    .claim_release
                    .key(claim)
                    .arg(format!("{:032x}", token.0))
                    .invoke_async::<u8>(&mut c)
                    .await
            })
            .await?;
        Ok(())
    }

    async fn finish_claim(
        &self,
        ticket: &str,
        _token: ClaimToken,
        keep: Duration,
    ) -> Result<(), StateError> {
        let claim = self.keys.claim(&self.keys.ticket_digest(ticket));
        let keep = millis(keep).max(1);
        let scripts = self.scripts.clone();
        self.link
            .run(move |mut c| async move {
                scripts
                    .claim_finish
                    .key(claim)
                    .arg(keep)
                    .invoke_async::<u8>(&mut c)
                    .await
            })
            .await?;
        Ok(())
    }
}

impl RedisState {
    /// Renews (`hold`) or gives back this replica's lease on the deadline of `ticket`, due
    /// again `after` from now.
    async fn lease_deadline(
        &self,
        ticket: &str,
        after: Duration,
        hold: bool,
    ) -> Result<bool, StateError> {
        let digest = self.keys.ticket_digest(ticket);
        let (deadlines, holders) = (self.keys.deadlines(), self.keys.deadline_holders());
        let (replica, after) = (self.replica.clone(), millis(after));
        let scripts = self.scripts.clone();
        let held: u8 = self
            .link
            .run(move |mut c| async move {
                scripts
                    .deadline_renew
                    .key(deadlines)
                    .key(holders)
                    .arg(digest)
                    .arg(replica)
                    .arg(after)
                    .arg(u8::from(hold))
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(held == 1)
    }
}

impl Deadlines for RedisState {
    async fn claim_due(&self, limit: usize) -> Result<Vec<DueDeadline>, StateError> {
        let (keys, scripts) = (self.keys.clone(), self.scripts.clone());
        let (replica, lease) = (self.replica.clone(), millis(self.lease));
        let claimed: Vec<(String, u8, Option<Vec<u8>>)> = self
            .link
            .run(move |mut c| async move {
                let (deadlines, holders) = (keys.deadlines(), keys.deadline_holders());
                let due: Vec<(String, u8)> = scripts
                    .deadline_claim
                    .key(&deadlines)
                    .key(&holders)
                    .arg(replica)
                    .arg(lease)
                    .arg(limit)
                    .invoke_async(&mut c)
                    .await?;
                if due.is_empty() {
                    return Ok(Vec::new());
                }
                let names: Vec<String> = due.iter().map(|(d, _)| keys.request(d)).collect();
                let entries: Vec<Option<Vec<u8>>> =
                    redis::cmd("MGET").arg(names).query_async(&mut c).await?;
                // A deadline whose entry is gone (expired, or settled meanwhile) is dropped.
                let gone: Vec<&String> = due
                    .iter()
                    .zip(&entries)
                    .filter(|(_, entry)| entry.is_none())
                    .map(|((digest, _), _)| digest)
                    .collect();
                if !gone.is_empty() {
                    redis::pipe()
                        .atomic()
                        .zrem(&deadlines, &gone)
                        .hdel(&holders, &gone)
                        .query_async::<()>(&mut c)
                        .await?;
                }
                Ok(due
                    .into_iter()
                    .zip(entries)
                    .map(|((digest, reclaimed), entry)| (digest, reclaimed, entry))
                    .collect())
            })
            .await?;
        Ok(claimed
            .into_iter()
            .filter_map(|(_, reclaimed, sealed)| {
                let listing = self.open_listing(&sealed?)?;
                Some(DueDeadline {
                    listing,
                    reclaimed: reclaimed == 1,
                })
            })
            .collect())
    }

    async fn renew_deadline(&self, ticket: &str) -> Result<bool, StateError> {
        self.lease_deadline(ticket, self.lease, true).await
    }

    async fn postpone(&self, ticket: &str, after: Duration) -> Result<(), StateError> {
        self.lease_deadline(ticket, after, false).await.map(drop)
    }
}
