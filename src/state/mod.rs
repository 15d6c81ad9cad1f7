//! The state backends (SPEC §12): what the gateway keeps itself, behind one seam with two
//! implementations — `memory` (this process, the injected clock) and `redis` (shared by the
//! fleet, Redis's clock). Handlers and the CIBA path see only the seam: the traits here and the
//! `State` facade, which picks the backend and counts every operation (SPEC §8).
//!
//! This release moves the poll entries of the edge polling control (SPEC §3.2) behind the seam;
//! the other per-replica state still lives in `ciba` and `outbox`.

pub mod memory;
pub mod redis;

use std::future::Future;
use std::time::{Duration, Instant};

use crate::clock::SharedClock;
use crate::config::{Settings, StateBackend};
use crate::metrics::Metrics;

/// SHA-256 of an `auth_req_id` (`ciba::request_key`): ids are never kept in the clear.
pub type RequestKey = [u8; 32];
/// A keyed digest of the credentials a caller presented (`ciba::poll::Caller`).
pub type CallerDigest = [u8; 32];

/// Why a state operation failed. Either way the caller decides what failing means for it (the
/// polling control fails open).
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("the state backend did not answer within the command timeout")]
    Timeout,
    #[error("the state backend is unavailable: {0}")]
    Unavailable(String),
}

/// When a poll arrived, in microseconds on the backend's clock (memory: the injected monotonic
/// clock; redis: the Redis server's clock, one for the fleet). Only the backend that stamped it
/// can compare it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrival(pub u64);

/// What the polling control says about a poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollCheck {
    /// The same caller polled less than `interval − leeway` ago: answer `slow_down`.
    TooEarly,
    /// Forward to Authlete; record the poll with this arrival if Authlete says pending.
    Forward(Arrival),
}

/// The rules of the edge polling control that every backend applies (SPEC §3.2).
#[derive(Debug, Clone, Copy)]
pub struct PollPolicy {
    /// `ciba.poll_leeway_ms`.
    pub leeway: Duration,
    /// `ciba.default_interval_secs`: for ids whose `/issue` this fleet did not see.
    pub default_interval: Duration,
    /// `ciba.max_request_lifetime_secs`: entries expire this long after their last write.
    pub lifetime: Duration,
}

impl PollPolicy {
    pub fn from_settings(s: &Settings) -> Self {
        Self {
            leeway: s.ciba.poll_leeway,
            default_interval: s.ciba.default_interval.max(Duration::from_secs(1)),
            lifetime: s.ciba.max_request_lifetime,
        }
    }
}

/// The poll entries of SPEC §3.2: one per request key, holding the interval seen at `/issue`
/// and the caller and arrival of the last poll Authlete answered pending.
pub trait PollEntries: Send + Sync {
    /// Remembers the `interval` an issued request was given.
    fn record_interval(
        &self,
        key: &RequestKey,
        interval: Duration,
    ) -> impl Future<Output = Result<(), StateError>> + Send;

    /// Whether `caller`'s poll, arriving now, comes too soon after its last recorded one. A
    /// different caller never matches. Changes nothing.
    fn check(
        &self,
        key: &RequestKey,
        caller: &CallerDigest,
    ) -> impl Future<Output = Result<PollCheck, StateError>> + Send;

    /// Records a poll Authlete answered pending, at `arrival` (from `check`), or now when the
    /// check failed.
    fn record_poll(
        &self,
        key: &RequestKey,
        caller: &CallerDigest,
        arrival: Option<Arrival>,
    ) -> impl Future<Output = Result<(), StateError>> + Send;

    /// Removes the entry of a request whose result is ready, and marks it so that a pending
    /// answer arriving afterwards (to a poll sent before) records nothing.
    fn forget(&self, key: &RequestKey) -> impl Future<Output = Result<(), StateError>> + Send;
}

/// The `op` label of `gateway_state_operations_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    PollRecordInterval,
    PollCheck,
    PollRecord,
    PollForget,
}

impl Op {
    pub const ALL: [Op; 4] = [
        Op::PollRecordInterval,
        Op::PollCheck,
        Op::PollRecord,
        Op::PollForget,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Op::PollRecordInterval => "poll_record_interval",
            Op::PollCheck => "poll_check",
            Op::PollRecord => "poll_record",
            Op::PollForget => "poll_forget",
        }
    }
}

enum Backend {
    Memory(memory::MemoryState),
    Redis(redis::RedisState),
}

/// The configured backend, with every operation counted and timed.
pub struct State {
    backend: Backend,
    metrics: Metrics,
}

impl State {
    /// The backend `[state]` names. Connecting to Redis happens in the background: start-up
    /// does not wait for it.
    pub fn from_settings(
        s: &Settings,
        clock: SharedClock,
        metrics: Metrics,
    ) -> Result<Self, String> {
        let policy = PollPolicy::from_settings(s);
        let backend = match s.state.backend {
            StateBackend::Memory => Backend::Memory(memory::MemoryState::new(
                policy,
                s.cache.poll_max_entries,
                clock,
            )),
            StateBackend::Redis => Backend::Redis(redis::RedisState::new(
                &s.state.redis,
                policy,
                metrics.state_backend_up.clone(),
            )?),
        };
        if matches!(backend, Backend::Memory(_)) {
            metrics.state_backend_up.set(1.0);
        }
        Ok(Self { backend, metrics })
    }

    /// The key of the caller digests: shared by the fleet with `redis` (derived from
    /// `key_hash_secret`, so every replica recognises a caller), random per process with
    /// `memory` (the digests never leave it).
    pub fn caller_key(&self) -> [u8; 32] {
        match &self.backend {
            Backend::Memory(_) => {
                let mut key = [0u8; 32];
                rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut key);
                key
            }
            Backend::Redis(redis) => redis.caller_key(),
        }
    }

    async fn metered<T>(
        &self,
        op: Op,
        run: impl Future<Output = Result<T, StateError>>,
    ) -> Result<T, StateError> {
        let started = Instant::now();
        let outcome = run.await;
        let result = match &outcome {
            Ok(_) => "ok",
            Err(StateError::Timeout) => "timeout",
            Err(StateError::Unavailable(_)) => "error",
        };
        let m = &self.metrics;
        m.state_duration
            .with_label_values(&[op.label()])
            .observe(started.elapsed().as_secs_f64());
        m.state_operations
            .with_label_values(&[op.label(), result])
            .inc();
        if matches!(self.backend, Backend::Redis(_)) {
            m.state_backend_up
                .set(if outcome.is_ok() { 1.0 } else { 0.0 });
        }
        outcome
    }
}

/// One call on whichever backend is configured.
macro_rules! dispatch {
    ($self:ident, $op:expr, |$b:ident| $call:expr) => {
        $self
            .metered($op, async {
                match &$self.backend {
                    Backend::Memory($b) => $call.await,
                    Backend::Redis($b) => $call.await,
                }
            })
            .await
    };
}

impl PollEntries for State {
    async fn record_interval(
        &self,
        key: &RequestKey,
        interval: Duration,
    ) -> Result<(), StateError> {
        dispatch!(self, Op::PollRecordInterval, |b| b
            .record_interval(key, interval))
    }

    async fn check(
        &self,
        key: &RequestKey,
        caller: &CallerDigest,
    ) -> Result<PollCheck, StateError> {
        dispatch!(self, Op::PollCheck, |b| b.check(key, caller))
    }

    async fn record_poll(
        &self,
        key: &RequestKey,
        caller: &CallerDigest,
        arrival: Option<Arrival>,
    ) -> Result<(), StateError> {
        dispatch!(self, Op::PollRecord, |b| b
            .record_poll(key, caller, arrival))
    }

    async fn forget(&self, key: &RequestKey) -> Result<(), StateError> {
        dispatch!(self, Op::PollForget, |b| b.forget(key))
    }
}
