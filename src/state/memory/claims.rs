//! Completion claims (SPEC §12) in one map behind a mutex, keyed by the SHA-256 of the ticket,
//! timed by the injected clock; and the shared deadlines, which this backend does not have.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::MemoryState;
use crate::state::{
    Claim, ClaimToken, Completions, DeadlineLease, Deadlines, DueDeadline, StateError,
};

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
pub(super) struct Claims {
    held: HashMap<[u8; 32], Held>,
    /// Records refused or made at `MAX_CLAIMS` since the expired claims were last dropped.
    since_sweep: usize,
}

fn digest(ticket: &str) -> [u8; 32] {
    Sha256::digest(ticket.as_bytes()).into()
}

impl MemoryState {
    fn claims(&self) -> std::sync::MutexGuard<'_, Claims> {
        self.claims.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Completions for MemoryState {
    async fn claim_completion(&self, ticket: &str, token: ClaimToken) -> Result<Claim, StateError> {
        let now = self.clock.instant();
        let mut claims = self.claims();
        let key = digest(ticket);
        let takeover = match claims.held.get(&key) {
            Some(Held::Done { until }) if *until > now => return Ok(Claim::Done),
            Some(Held::Leased { token: held, .. }) if *held == token.0 => false,
            Some(Held::Leased { until, .. }) if *until > now => return Ok(Claim::Held),
            Some(Held::Leased { .. }) => true,
            _ => false,
        };
        claims.record(
            key,
            Held::Leased {
                token: token.0,
                until: now + self.lease,
            },
            now,
        );
        Ok(Claim::Taken { takeover })
    }

    async fn renew_claim(&self, ticket: &str, token: ClaimToken) -> Result<bool, StateError> {
        let until = self.clock.instant() + self.lease;
        let mut claims = self.claims();
        match claims.held.get_mut(&digest(ticket)) {
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
        if matches!(claims.held.get(&key), Some(Held::Leased { token: held, .. }) if *held == token.0)
        {
            claims.held.remove(&key);
        }
        Ok(())
    }

    async fn finish_claim(&self, ticket: &str, keep: Duration) -> Result<(), StateError> {
        let now = self.clock.instant();
        let mut claims = self.claims();
        claims.record(digest(ticket), Held::Done { until: now + keep }, now);
        Ok(())
    }
}

impl Claims {
    /// Records `held` for `key`. At `MAX_CLAIMS` the expired claims are dropped (on the first
    /// record that finds the map full, then once per `MAX_CLAIMS / 10` such records); when it
    /// is still full, a new claim is granted without being recorded.
    fn record(&mut self, key: [u8; 32], held: Held, now: Instant) {
        if self.held.len() >= MAX_CLAIMS && !self.held.contains_key(&key) {
            if self.since_sweep.is_multiple_of(MAX_CLAIMS / 10) {
                self.held.retain(|_, held| held.until() > now);
            }
            self.since_sweep = self.since_sweep.wrapping_add(1);
            if self.held.len() >= MAX_CLAIMS {
                return;
            }
        }
        self.held.insert(key, held);
    }
}

impl Deadlines for MemoryState {
    async fn claim_due(&self, _limit: usize) -> Result<Vec<DueDeadline>, StateError> {
        Ok(Vec::new())
    }

    async fn renew_deadline(
        &self,
        _ticket: &str,
        _lease: &DeadlineLease,
    ) -> Result<bool, StateError> {
        Ok(false)
    }

    async fn postpone(
        &self,
        _ticket: &str,
        _lease: &DeadlineLease,
        _after: Duration,
    ) -> Result<(), StateError> {
        Ok(())
    }
}
