//! Completion claims (SPEC §12) in one map behind a mutex, keyed by the SHA-256 of the ticket,
//! timed by the injected clock; and the shared deadlines, which this backend does not have.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::MemoryState;
use crate::state::{Claim, ClaimToken, Completions, Deadlines, DueDeadline, StateError};

/// Claims kept at most; beyond it (after dropping the expired ones) a claim is granted without
/// being recorded, and Authlete's one-shot `/complete` keeps the effect single.
pub(super) const MAX_CLAIMS: usize = 100_000;

pub(super) enum Held {
    /// Leased to `token` until `until`.
    Leased { token: u128, until: Instant },
    /// Authlete answered; kept until `until`.
    Done { until: Instant },
}

impl Held {
    fn until(&self) -> Instant {
        match self {
            Held::Leased { until, .. } | Held::Done { until } => *until,
        }
    }
}

#[derive(Default)]
pub(super) struct Claims(HashMap<[u8; 32], Held>);

fn digest(ticket: &str) -> [u8; 32] {
    Sha256::digest(ticket.as_bytes()).into()
}

impl MemoryState {
    fn claims(&self) -> std::sync::MutexGuard<'_, Claims> {
        self.claims.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Completions for MemoryState {
    async fn claim_completion(&self, ticket: &str) -> Result<Claim, StateError> {
        let now = self.clock.instant();
        let token: u128 = rand::Rng::gen(&mut rand::thread_rng());
        let mut claims = self.claims();
        let key = digest(ticket);
        let takeover = match claims.0.get(&key) {
            Some(Held::Done { until }) if *until > now => return Ok(Claim::Done),
            Some(Held::Leased { until, .. }) if *until > now => return Ok(Claim::Held),
            Some(Held::Leased { .. }) => true,
            _ => false,
        };
        if claims.0.len() >= MAX_CLAIMS {
            claims.0.retain(|_, held| held.until() > now);
        }
        let taken = Held::Leased {
            token,
            until: now + self.lease,
        };
        if claims.0.len() < MAX_CLAIMS || claims.0.contains_key(&key) {
            claims.0.insert(key, taken);
        }
        Ok(Claim::Taken {
            token: ClaimToken(token),
            takeover,
        })
    }

    async fn renew_claim(&self, ticket: &str, token: ClaimToken) -> Result<bool, StateError> {
        let until = self.clock.instant() + self.lease;
        let mut claims = self.claims();
        match claims.0.get_mut(&digest(ticket)) {
            Some(Held::Leased {
                token: held,
                until: lease,
            }) if *held == token.0 => {
                *lease = until;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn release_claim(&self, ticket: &str, token: ClaimToken) -> Result<(), StateError> {
        let mut claims = self.claims();
        let key = digest(ticket);
        if matches!(claims.0.get(&key), Some(Held::Leased { token: held, .. }) if *held == token.0)
        {
            claims.0.remove(&key);
        }
        Ok(())
    }

    async fn finish_claim(
        &self,
        ticket: &str,
        _token: ClaimToken,
        keep: Duration,
    ) -> Result<(), StateError> {
        let until = self.clock.instant() + keep;
        let mut claims = self.claims();
        let key = digest(ticket);
        if claims.0.len() < MAX_CLAIMS || claims.0.contains_key(&key) {
            claims.0.insert(key, Held::Done { until });
        }
        Ok(())
    }
}

impl Deadlines for MemoryState {
    async fn claim_due(&self, _limit: usize) -> Result<Vec<DueDeadline>, StateError> {
        Ok(Vec::new())
    }

    async fn renew_deadline(&self, _ticket: &str) -> Result<bool, StateError> {
        Ok(false)
    }

    async fn postpone(&self, _ticket: &str, _after: Duration) -> Result<(), StateError> {
        Ok(())
    }
}
