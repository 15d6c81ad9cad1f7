//! The state backends (SPEC §12): what the gateway keeps itself, behind one seam with two
//! implementations — `memory` (this process, the injected clock) and `redis` (shared by the
//! fleet, Redis's clock). Handlers and the CIBA path see only the seam: the traits here and the
//! `State` facade, which picks the backend and counts every operation (SPEC §8).
//!
//! This release moves the poll entries of the edge polling control (SPEC §3.2), the pending
//! places of the push-bombing guard, the user-code failures of the lockout (SPEC §4) and the
//! request registry (SPEC §5, §5.4) behind the seam; the other per-replica state still lives in
//! `ciba` and `outbox`.

pub mod memory;
pub mod outbox;
pub mod redis;
pub mod seal;
mod shared_outbox;
pub mod wake;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::clock::SharedClock;
use crate::config::{Settings, StateBackend};
use crate::metrics::Metrics;

pub use self::outbox::{ClaimBatch, Claimed, OutboxKind, OutboxStore, Reservation};
pub use self::shared_outbox::SharedOutbox;
pub use self::wake::{Waiter, Waiters, Wake, WakeCause, WakeId};

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

/// What the polling control found for a poll: its verdict, and the backchannel request's
/// `traceparent` when one was recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub verdict: PollCheck,
    pub origin: Option<String>,
}

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
    /// Remembers the `interval` an issued request was given, and the trace position of the
    /// backchannel request (`traceparent`) that its polls link to (SPEC §13).
    fn record_interval(
        &self,
        key: &RequestKey,
        interval: Duration,
        origin: Option<&str>,
    ) -> impl Future<Output = Result<(), StateError>> + Send;

    /// Whether `caller`'s poll, arriving now, comes too soon after its last recorded one. A
    /// different caller never matches. Changes nothing. The origin recorded with the interval
    /// stays readable after `forget`, for the poll that collects the result.
    fn check(
        &self,
        key: &RequestKey,
        caller: &CallerDigest,
    ) -> impl Future<Output = Result<Checked, StateError>> + Send;

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

/// The rules of the push-bombing guard and the user-code lockout that every backend applies
/// (SPEC §4 steps 2 and 4).
#[derive(Debug, Clone, Copy)]
pub struct GuardPolicy {
    /// `ciba.max_pending_per_user`.
    pub max_pending: usize,
    /// How long a reservation may wait for `/issue` before it stops counting.
    pub reservation_ttl: Duration,
    /// `ciba.user_code_max_failures`.
    pub max_failures: usize,
    /// `ciba.user_code_failure_window_secs`.
    pub failure_window: Duration,
}

impl GuardPolicy {
    /// How long a reservation holds a place without `/issue` committing it.
    pub const RESERVATION_TTL: Duration = Duration::from_secs(60);

    pub fn from_settings(s: &Settings) -> Self {
        Self {
            max_pending: s.ciba.max_pending_per_user,
            reservation_ttl: Self::RESERVATION_TTL,
            max_failures: s.ciba.user_code_max_failures,
            failure_window: s.ciba.user_code_failure_window,
        }
    }
}

/// A place held for a subject between the pending check and `/issue` (SPEC §4 step 4). Only the
/// backend that handed it out knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place(pub u128);

/// The pending places of the push-bombing guard (SPEC §4 step 4): per subject, at most
/// `max_pending` reservations and issued, undecided, unexpired requests.
pub trait PendingPlaces: Send + Sync {
    /// Holds a place for `subject`, atomically: `None` when the subject is at the cap. The
    /// place stops counting after `reservation_ttl` unless it is committed.
    fn reserve(
        &self,
        subject: &str,
    ) -> impl Future<Output = Result<Option<Place>, StateError>> + Send;

    /// The request was issued with `key`: its place counts until `lifetime` has passed or it is
    /// released.
    fn commit(
        &self,
        subject: &str,
        place: Place,
        key: &RequestKey,
        lifetime: Duration,
    ) -> impl Future<Output = Result<(), StateError>> + Send;

    /// Gives back a place that was never committed (`/issue` failed or was not called).
    fn cancel(
        &self,
        subject: &str,
        place: Place,
    ) -> impl Future<Output = Result<(), StateError>> + Send;

    /// The request with `key` was decided: its place is free again.
    fn release(
        &self,
        subject: &str,
        key: &RequestKey,
    ) -> impl Future<Output = Result<(), StateError>> + Send;
}

/// Whose wrong user codes are counted (SPEC §4 step 2): a subject, or the hint of a request
/// that an HTTP directory refused for its code (it names no subject then). The two never share
/// a count, however a subject is spelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Guesser<'a> {
    Subject(&'a str),
    Hint(&'a str),
}

/// One guess at a user code, counted from the moment it began (SPEC §4 step 2). Only the
/// backend that handed it out knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guess(pub u128);

/// What `CodeFailures::begin_attempt` says about a guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// `max_failures` wrong or unsettled guesses lie within the window: refuse the request.
    Locked,
    /// The guess counts as a failure until it is settled as correct.
    Begun(Guess),
}

/// The wrong user codes of the lockout (SPEC §4 step 2), per subject or hint: locked once
/// `max_failures` lie within `failure_window`, until the oldest of them leaves it.
///
/// A guess is counted before it is judged, atomically with the check, so N concurrent guesses
/// (on any replicas) never get past the limit: at most `max_failures` guesses are in flight or
/// wrong within the window. A guess that is never settled counts as a wrong one (fails closed)
/// and leaves with the window, scored when it began.
pub trait CodeFailures: Send + Sync {
    /// Removes what left the window; `Locked` when the wrong and unsettled guesses of `who`
    /// reach `max_failures`, else counts one more guess, now.
    fn begin_attempt(
        &self,
        who: Guesser<'_>,
    ) -> impl Future<Output = Result<Attempt, StateError>> + Send;

    /// The guess was judged: a correct one (or one that was not judged at all) stops counting;
    /// a wrong one keeps counting, as a failure, until it leaves the window.
    fn settle_attempt(
        &self,
        who: Guesser<'_>,
        guess: Guess,
        correct: bool,
    ) -> impl Future<Output = Result<(), StateError>> + Send;
}

/// One undecided request in the registry (SPEC §5, §5.4), as the backends keep it: the two ids
/// it is found by, its issue time for the order, and `record`, what the caller needs back (its
/// own serialisation; the `redis` backend seals the whole listing).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Listing {
    /// The device-facing id (the console's `request_id`).
    pub id: String,
    /// The Authlete ticket: what a decision names.
    pub ticket: String,
    /// Unix seconds.
    pub issued_at: u64,
    pub record: String,
}

/// The requests the console lists and the deadlines end (SPEC §5, §5.4): per replica with
/// `memory`, per fleet with `redis`.
pub trait Registry: Send + Sync {
    /// Lists a request until `expires_in` has passed; false when the backend is full and the
    /// request stays unlisted. A backend that shares deadlines (`State::shares_deadlines`)
    /// schedules its deadline `deadline_in` from now in the same step; removing the request
    /// cancels it.
    fn insert(
        &self,
        listing: &Listing,
        expires_in: Duration,
        deadline_in: Duration,
    ) -> impl Future<Output = Result<bool, StateError>> + Send;

    /// The request with the device-facing `id`, until 60 s after its expiry, unless removed.
    fn get(&self, id: &str) -> impl Future<Output = Result<Option<Listing>, StateError>> + Send;

    /// Removes and returns the request a decision for `ticket` settled.
    fn remove(
        &self,
        ticket: &str,
    ) -> impl Future<Output = Result<Option<Listing>, StateError>> + Send;

    /// At most `limit` unexpired requests, those closest to their expiry, in any order.
    fn list(&self, limit: usize) -> impl Future<Output = Result<Vec<Listing>, StateError>> + Send;

    /// How many unexpired requests are listed.
    fn count(&self) -> impl Future<Output = Result<u64, StateError>> + Send;
}

/// The token of a completion claim (SPEC §12): a random operation id the caller makes before
/// asking, so that a call that timed out after Redis applied it can still be released, and only
/// its holder can renew or release the claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimToken(pub u128);

impl ClaimToken {
    pub fn random() -> Self {
        Self(rand::Rng::gen(&mut rand::thread_rng()))
    }
}

impl std::fmt::Display for ClaimToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

/// What `Completions::claim_completion` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// The caller's token holds the claim for one lease; `takeover` when a previous holder's
    /// lease had run out without an answer (its replica died, or its call hung).
    Taken { takeover: bool },
    /// Another holder's lease is live: a decision or the deadline is being reported.
    Held,
    /// Authlete has answered a completion of this request.
    Done,
}

/// The completion claims of SPEC §12: one per request (named by its ticket), taken atomically
/// by a decision or by the deadline, leased for `state.redis.lease_ms` and renewed while
/// `/complete` runs, released when the call got no answer, a tombstone once Authlete answered.
pub trait Completions: Send + Sync {
    /// Takes the claim of `ticket` for `token`, unless another holder's lease is live or
    /// Authlete already answered. Asking again with the same token renews it.
    fn claim_completion(
        &self,
        ticket: &str,
        token: ClaimToken,
    ) -> impl Future<Output = Result<Claim, StateError>> + Send;

    /// Extends the lease; false when `token` no longer holds it.
    fn renew_claim(
        &self,
        ticket: &str,
        token: ClaimToken,
    ) -> impl Future<Output = Result<bool, StateError>> + Send;

    /// Gives the claim up (the call was not sent, or got no answer): anyone may take it. Does
    /// nothing unless `token` holds it.
    fn release_claim(
        &self,
        ticket: &str,
        token: ClaimToken,
    ) -> impl Future<Output = Result<(), StateError>> + Send;

    /// Authlete answered a completion of `ticket` (whoever asked): the claim becomes a
    /// tombstone for `keep` (until the request's expiry plus 30 s).
    fn finish_claim(
        &self,
        ticket: &str,
        keep: Duration,
    ) -> impl Future<Output = Result<(), StateError>> + Send;
}

/// Who holds the lease on a shared deadline: this replica's name and the claim's own id, so
/// that a replica that claims a deadline again (its renewals stalled past the lease) does not
/// mistake the new lease for the old one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlineLease(pub String);

/// A shared deadline that fell due, claimed by this replica for one lease (SPEC §12).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueDeadline {
    pub listing: Listing,
    pub lease: DeadlineLease,
    /// True when another holder had claimed it and its lease ran out: a takeover.
    pub reclaimed: bool,
}

/// The deadlines of a backend shared by the fleet (SPEC §5.3, §12): scheduled with the
/// registry entry (`Registry::insert`), run by whichever replica claims them once due, taken
/// over when a claim's lease runs out. The `memory` backend shares nothing: its deadlines are
/// timers of the one process, and these operations find nothing.
pub trait Deadlines: Send + Sync {
    /// At most `limit` deadlines that fell due, each leased to this replica. A deadline whose
    /// registry entry is gone, or does not open, is dropped.
    fn claim_due(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<DueDeadline>, StateError>> + Send;

    /// Extends `lease` on the deadline of `ticket`; false when it no longer holds it.
    fn renew_deadline(
        &self,
        ticket: &str,
        lease: &DeadlineLease,
    ) -> impl Future<Output = Result<bool, StateError>> + Send;

    /// Gives the deadline of `ticket` back, due again `after` from now, if `lease` holds it.
    fn postpone(
        &self,
        ticket: &str,
        lease: &DeadlineLease,
        after: Duration,
    ) -> impl Future<Output = Result<(), StateError>> + Send;
}

/// The `op` label of `gateway_state_operations_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    PollRecordInterval,
    PollCheck,
    PollRecord,
    PollForget,
    PendingReserve,
    PendingCommit,
    PendingCancel,
    PendingRelease,
    LockoutBegin,
    LockoutSettle,
    RegistryInsert,
    RegistryGet,
    RegistryRemove,
    RegistryList,
    RegistryCount,
    ClaimTake,
    ClaimRenew,
    ClaimRelease,
    ClaimFinish,
    DeadlineClaim,
    DeadlineRenew,
    DeadlinePostpone,
    OutboxReserve,
    OutboxRelease,
    OutboxEnqueue,
    OutboxClaim,
    OutboxRenew,
    OutboxRetry,
    OutboxFinish,
    OutboxHandBack,
    OutboxHolds,
    WakePublish,
}

impl Op {
    pub const ALL: [Op; 32] = [
        Op::PollRecordInterval,
        Op::PollCheck,
        Op::PollRecord,
        Op::PollForget,
        Op::PendingReserve,
        Op::PendingCommit,
        Op::PendingCancel,
        Op::PendingRelease,
        Op::LockoutBegin,
        Op::LockoutSettle,
        Op::RegistryInsert,
        Op::RegistryGet,
        Op::RegistryRemove,
        Op::RegistryList,
        Op::RegistryCount,
        Op::ClaimTake,
        Op::ClaimRenew,
        Op::ClaimRelease,
        Op::ClaimFinish,
        Op::DeadlineClaim,
        Op::DeadlineRenew,
        Op::DeadlinePostpone,
        Op::OutboxReserve,
        Op::OutboxRelease,
        Op::OutboxEnqueue,
        Op::OutboxClaim,
        Op::OutboxRenew,
        Op::OutboxRetry,
        Op::OutboxFinish,
        Op::OutboxHandBack,
        Op::OutboxHolds,
        Op::WakePublish,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Op::PollRecordInterval => "poll_record_interval",
            Op::PollCheck => "poll_check",
            Op::PollRecord => "poll_record",
            Op::PollForget => "poll_forget",
            Op::PendingReserve => "pending_reserve",
            Op::PendingCommit => "pending_commit",
            Op::PendingCancel => "pending_cancel",
            Op::PendingRelease => "pending_release",
            Op::LockoutBegin => "lockout_begin",
            Op::LockoutSettle => "lockout_settle",
            Op::RegistryInsert => "registry_insert",
            Op::RegistryGet => "registry_get",
            Op::RegistryRemove => "registry_remove",
            Op::RegistryList => "registry_list",
            Op::RegistryCount => "registry_count",
            Op::ClaimTake => "claim_take",
            Op::ClaimRenew => "claim_renew",
            Op::ClaimRelease => "claim_release",
            Op::ClaimFinish => "claim_finish",
            Op::DeadlineClaim => "deadline_claim",
            Op::DeadlineRenew => "deadline_renew",
            Op::DeadlinePostpone => "deadline_postpone",
            Op::OutboxReserve => "outbox_reserve",
            Op::OutboxRelease => "outbox_release",
            Op::OutboxEnqueue => "outbox_enqueue",
            Op::OutboxClaim => "outbox_claim",
            Op::OutboxRenew => "outbox_renew",
            Op::OutboxRetry => "outbox_retry",
            Op::OutboxFinish => "outbox_finish",
            Op::OutboxHandBack => "outbox_hand_back",
            Op::OutboxHolds => "outbox_holds",
            Op::WakePublish => "wake_publish",
        }
    }
}

enum Backend {
    Memory(Box<memory::MemoryState>),
    Redis(Box<redis::RedisState>),
}

/// The configured backend, with every operation counted and timed.
pub struct State {
    backend: Backend,
    metrics: Metrics,
    lease: Duration,
    /// This process's parked long polls, by wake id (SPEC §14).
    waiters: Arc<Waiters>,
}

impl State {
    /// The backend `[state]` names; the `redis` backend seals what it stores under subkeys of
    /// `decision_keys` (SPEC §12). Connecting to Redis happens in the background: start-up
    /// does not wait for it.
    pub fn from_settings(
        s: &Settings,
        clock: SharedClock,
        metrics: Metrics,
        decision_keys: &[[u8; 32]],
    ) -> Result<Self, String> {
        let policy = PollPolicy::from_settings(s);
        let guards = GuardPolicy::from_settings(s);
        let lease = s.state.redis.lease;
        let backend = match s.state.backend {
            StateBackend::Memory => Backend::Memory(Box::new(memory::MemoryState::new(
                policy,
                s.cache.poll_max_entries,
                clock,
                guards,
                lease,
            ))),
            StateBackend::Redis => Backend::Redis(Box::new(
                redis::RedisState::new(
                    &s.state.redis,
                    policy,
                    guards,
                    seal::Sealer::new(decision_keys),
                    metrics.state_backend_up.clone(),
                )?
                .reserving_for(s.authlete.complete_timeout),
            )),
        };
        if matches!(backend, Backend::Memory(_)) {
            metrics.state_backend_up.set(1.0);
        }
        let waiters = Arc::new(Waiters::default());
        if let (Backend::Redis(redis), true) = (&backend, s.ciba.long_polling) {
            redis.listen_for_wakes(&waiters);
        }
        Ok(Self {
            backend,
            metrics,
            lease,
            waiters,
        })
    }

    /// Registers a waiter for the wake-up of the request `key` (SPEC §14), on any replica.
    pub fn await_wake(&self, key: &RequestKey) -> Waiter {
        self.waiters.register(self.wake_id(key))
    }

    /// Wakes the long polls parked for the request `key`: here at once, and with `redis` on
    /// every other replica through `{prefix}:wake` (counted as `wake_publish`). A wake-up
    /// that is not published leaves the other replicas' polls to their timeout.
    pub async fn wake(&self, key: &RequestKey, wake: Wake) {
        let id = self.wake_id(key);
        self.waiters.deliver(&id, wake);
        if let Backend::Redis(redis) = &self.backend {
            if let Err(e) = self
                .metered(Op::WakePublish, redis.publish_wake(&id, wake))
                .await
            {
                log::debug!("the wake-up of parked long polls was not published: {e}");
            }
        }
    }

    fn wake_id(&self, key: &RequestKey) -> WakeId {
        match &self.backend {
            Backend::Memory(_) => *key,
            Backend::Redis(redis) => redis.wake_id(key),
        }
    }

    /// Whether the fleet shares this backend's deadlines (`Deadlines`); with `memory` each
    /// process keeps its own timers.
    pub fn shares_deadlines(&self) -> bool {
        matches!(self.backend, Backend::Redis(_))
    }

    /// How long a claim lasts unless renewed (`state.redis.lease_ms`).
    pub fn lease(&self) -> Duration {
        self.lease
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

    /// The fleet's outbox with `redis`; `None` with `memory`, whose outbox is the `outbox`
    /// module's in-process queue.
    pub fn shared_outbox(&self) -> Option<SharedOutbox> {
        match &self.backend {
            Backend::Memory(_) => None,
            Backend::Redis(redis) => {
                Some(SharedOutbox::new((**redis).clone(), self.metrics.clone()))
            }
        }
    }

    async fn metered<T>(
        &self,
        op: Op,
        run: impl Future<Output = Result<T, StateError>>,
    ) -> Result<T, StateError> {
        metered(&self.metrics, op, run).await
    }
}

/// Runs one operation, counting and timing it (SPEC §8).
async fn metered<T>(
    metrics: &Metrics,
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
    metrics
        .state_duration
        .with_label_values(&[op.label()])
        .observe(started.elapsed().as_secs_f64());
    metrics
        .state_operations
        .with_label_values(&[op.label(), result])
        .inc();
    outcome
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
        origin: Option<&str>,
    ) -> Result<(), StateError> {
        dispatch!(self, Op::PollRecordInterval, |b| b
            .record_interval(key, interval, origin))
    }

    async fn check(&self, key: &RequestKey, caller: &CallerDigest) -> Result<Checked, StateError> {
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

impl PendingPlaces for State {
    async fn reserve(&self, subject: &str) -> Result<Option<Place>, StateError> {
        dispatch!(self, Op::PendingReserve, |b| b.reserve(subject))
    }

    async fn commit(
        &self,
        subject: &str,
        place: Place,
        key: &RequestKey,
        lifetime: Duration,
    ) -> Result<(), StateError> {
        dispatch!(self, Op::PendingCommit, |b| b
            .commit(subject, place, key, lifetime))
    }

    async fn cancel(&self, subject: &str, place: Place) -> Result<(), StateError> {
        dispatch!(self, Op::PendingCancel, |b| b.cancel(subject, place))
    }

    async fn release(&self, subject: &str, key: &RequestKey) -> Result<(), StateError> {
        dispatch!(self, Op::PendingRelease, |b| b.release(subject, key))
    }
}

impl CodeFailures for State {
    async fn begin_attempt(&self, who: Guesser<'_>) -> Result<Attempt, StateError> {
        dispatch!(self, Op::LockoutBegin, |b| b.begin_attempt(who))
    }

    async fn settle_attempt(
        &self,
        who: Guesser<'_>,
        guess: Guess,
        correct: bool,
    ) -> Result<(), StateError> {
        dispatch!(self, Op::LockoutSettle, |b| b
            .settle_attempt(who, guess, correct))
    }
}

impl Registry for State {
    async fn insert(
        &self,
        listing: &Listing,
        expires_in: Duration,
        deadline_in: Duration,
    ) -> Result<bool, StateError> {
        dispatch!(self, Op::RegistryInsert, |b| b.insert(
            listing,
            expires_in,
            deadline_in
        ))
    }

    async fn get(&self, id: &str) -> Result<Option<Listing>, StateError> {
        dispatch!(self, Op::RegistryGet, |b| b.get(id))
    }

    async fn remove(&self, ticket: &str) -> Result<Option<Listing>, StateError> {
        dispatch!(self, Op::RegistryRemove, |b| b.remove(ticket))
    }

    /// Oldest first: by issue time, then id.
    async fn list(&self, limit: usize) -> Result<Vec<Listing>, StateError> {
        let mut listed = dispatch!(self, Op::RegistryList, |b| b.list(limit))?;
        listed.sort_by(|a, b| (a.issued_at, &a.id).cmp(&(b.issued_at, &b.id)));
        Ok(listed)
    }

    async fn count(&self) -> Result<u64, StateError> {
        dispatch!(self, Op::RegistryCount, |b| b.count())
    }
}

impl Completions for State {
    async fn claim_completion(&self, ticket: &str, token: ClaimToken) -> Result<Claim, StateError> {
        dispatch!(self, Op::ClaimTake, |b| b.claim_completion(ticket, token))
    }

    async fn renew_claim(&self, ticket: &str, token: ClaimToken) -> Result<bool, StateError> {
        dispatch!(self, Op::ClaimRenew, |b| b.renew_claim(ticket, token))
    }

    async fn release_claim(&self, ticket: &str, token: ClaimToken) -> Result<(), StateError> {
        dispatch!(self, Op::ClaimRelease, |b| b.release_claim(ticket, token))
    }

    async fn finish_claim(&self, ticket: &str, keep: Duration) -> Result<(), StateError> {
        dispatch!(self, Op::ClaimFinish, |b| b.finish_claim(ticket, keep))
    }
}

impl Deadlines for State {
    async fn claim_due(&self, limit: usize) -> Result<Vec<DueDeadline>, StateError> {
        dispatch!(self, Op::DeadlineClaim, |b| b.claim_due(limit))
    }

    async fn renew_deadline(
        &self,
        ticket: &str,
        lease: &DeadlineLease,
    ) -> Result<bool, StateError> {
        dispatch!(self, Op::DeadlineRenew, |b| b.renew_deadline(ticket, lease))
    }

    async fn postpone(
        &self,
        ticket: &str,
        lease: &DeadlineLease,
        after: Duration,
    ) -> Result<(), StateError> {
        dispatch!(self, Op::DeadlinePostpone, |b| b
            .postpone(ticket, lease, after))
    }
}

/// For unit tests: the settings of the smallest embedded configuration followed by `more` (TOML),
/// and a `memory` state backend built from them.
#[cfg(test)]
pub(crate) fn memory_for_tests(
    more: &str,
    clock: SharedClock,
    metrics: Metrics,
) -> (Settings, State) {
    let text = format!("{}{more}", crate::config::fixtures::EMBEDDED);
    let settings = Settings::from_toml_str(&text, Vec::new()).unwrap_or_else(|e| panic!("{e}"));
    let state =
        State::from_settings(&settings, clock, metrics, &[]).unwrap_or_else(|e| panic!("{e}"));
    (settings, state)
}
