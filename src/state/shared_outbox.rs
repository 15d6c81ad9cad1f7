//! The fleet's outbox as the `outbox` module sees it: the `redis` backend's, every operation
//! counted and timed like the rest of the seam (SPEC §8).

use std::time::{Duration, SystemTime};

use super::outbox::{ClaimBatch, OutboxKind, OutboxStore, Reservation};
use super::redis::{Nudges, RedisState};
use super::{metered, Op, StateError};
use crate::metrics::Metrics;

/// Cheap to clone; built by `State::shared_outbox`.
#[derive(Clone)]
pub struct SharedOutbox {
    redis: RedisState,
    metrics: Metrics,
}

impl SharedOutbox {
    pub(super) fn new(redis: RedisState, metrics: Metrics) -> Self {
        Self { redis, metrics }
    }

    /// Wakes the caller when any replica enqueues or hands back a message; listens on the
    /// current tokio runtime.
    pub fn nudges(&self) -> Nudges {
        self.redis.nudges()
    }
}

impl OutboxStore for SharedOutbox {
    fn message_id(&self, kind: OutboxKind, name: &str) -> String {
        self.redis.message_id(kind, name)
    }

    async fn reserve_place(&self, kind: OutboxKind) -> Result<Option<Reservation>, StateError> {
        metered(
            &self.metrics,
            Op::OutboxReserve,
            self.redis.reserve_place(kind),
        )
        .await
    }

    async fn release_place(
        &self,
        kind: OutboxKind,
        reservation: Reservation,
    ) -> Result<(), StateError> {
        let run = self.redis.release_place(kind, reservation);
        metered(&self.metrics, Op::OutboxRelease, run).await
    }

    async fn enqueue(
        &self,
        kind: OutboxKind,
        id: &str,
        message: &[u8],
        expires_at: SystemTime,
        reservation: Option<Reservation>,
    ) -> Result<bool, StateError> {
        let run = self
            .redis
            .enqueue(kind, id, message, expires_at, reservation);
        metered(&self.metrics, Op::OutboxEnqueue, run).await
    }

    async fn claim(&self, kind: OutboxKind, limit: usize) -> Result<ClaimBatch, StateError> {
        metered(
            &self.metrics,
            Op::OutboxClaim,
            self.redis.claim(kind, limit),
        )
        .await
    }

    async fn renew(&self, kind: OutboxKind, id: &str) -> Result<bool, StateError> {
        metered(&self.metrics, Op::OutboxRenew, self.redis.renew(kind, id)).await
    }

    async fn retry(
        &self,
        kind: OutboxKind,
        id: &str,
        attempts: u32,
        after: Duration,
    ) -> Result<bool, StateError> {
        let run = self.redis.retry(kind, id, attempts, after);
        metered(&self.metrics, Op::OutboxRetry, run).await
    }

    async fn finish(&self, kind: OutboxKind, id: &str) -> Result<bool, StateError> {
        metered(&self.metrics, Op::OutboxFinish, self.redis.finish(kind, id)).await
    }

    async fn hand_back(&self, kind: OutboxKind, ids: &[String]) -> Result<u64, StateError> {
        let run = self.redis.hand_back(kind, ids);
        metered(&self.metrics, Op::OutboxHandBack, run).await
    }

    async fn holds_notification(&self, ticket: &str) -> Result<bool, StateError> {
        let run = self.redis.holds_notification(ticket);
        metered(&self.metrics, Op::OutboxHolds, run).await
    }
}
