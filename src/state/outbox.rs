//! The fleet's outbox (SPEC §12 "Outbox"): messages stored before anyone is told they were
//! accepted, delivered by whichever replica claims them, taken over when a holder dies.
//!
//! Only the `redis` backend shares an outbox; with `memory` the `outbox` module keeps its
//! in-process queue (`State::shared_outbox` is then `None`). Messages cross the seam as opaque
//! bytes that the backend seals whole; ids, scores and attempt counts are all it sees in the
//! clear.

use std::future::Future;
use std::time::{Duration, SystemTime};

use super::StateError;

/// The two queues of the outbox, each with its own capacity and due set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxKind {
    Notification,
    Webhook,
}

impl OutboxKind {
    pub const ALL: [OutboxKind; 2] = [OutboxKind::Notification, OutboxKind::Webhook];

    /// The `kind` label of the outbox metrics.
    pub fn label(self) -> &'static str {
        match self {
            Self::Notification => "notification",
            Self::Webhook => "webhook",
        }
    }
}

/// A place held in a kind's capacity before the message exists (a decision's notification,
/// reserved before `/complete`). It stops counting after a while unless the message is
/// enqueued into it, so a replica that dies holding one frees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reservation(pub u128);

/// A message as claimed: its id, its (opened) bytes, the attempts already made on any replica,
/// and whether it was taken over from another replica whose lease ran out.
#[derive(Debug)]
pub struct Claimed {
    pub id: String,
    pub message: Vec<u8>,
    pub attempts: u32,
    pub takeover: bool,
}

/// What the claim loop gets back: the claimed messages and the kind's fleet-wide depth.
#[derive(Debug, Default)]
pub struct ClaimBatch {
    pub claimed: Vec<Claimed>,
    pub depth: u64,
}

/// The fleet's outbox. Every call names its kind; ids come from `message_id`, so the same
/// request always yields the same id and a retried enqueue applies once.
pub trait OutboxStore: Send + Sync {
    /// The id of the message that `name` (a ticket, a webhook id) stands for.
    fn message_id(&self, kind: OutboxKind, name: &str) -> String;

    /// Holds a place for a message to come; `None` when the kind is at capacity.
    fn reserve_place(
        &self,
        kind: OutboxKind,
    ) -> impl Future<Output = Result<Option<Reservation>, StateError>> + Send;

    /// Gives back a place that no message will use.
    fn release_place(
        &self,
        kind: OutboxKind,
        reservation: Reservation,
    ) -> impl Future<Output = Result<(), StateError>> + Send;

    /// Stores `message` and makes it due now, waking every replica; once per id. With a
    /// reservation the message takes its place; without one, false when the kind is full.
    fn enqueue(
        &self,
        kind: OutboxKind,
        id: &str,
        message: &[u8],
        expires_at: SystemTime,
        reservation: Option<Reservation>,
    ) -> impl Future<Output = Result<bool, StateError>> + Send;

    /// Leases at most `limit` due messages to this replica.
    fn claim(
        &self,
        kind: OutboxKind,
        limit: usize,
    ) -> impl Future<Output = Result<ClaimBatch, StateError>> + Send;

    /// Extends this replica's lease on `id`; false when it no longer holds it.
    fn renew(
        &self,
        kind: OutboxKind,
        id: &str,
    ) -> impl Future<Output = Result<bool, StateError>> + Send;

    /// Records that `attempts` attempts were made and makes `id` due again after `after`;
    /// false when this replica no longer holds it.
    fn retry(
        &self,
        kind: OutboxKind,
        id: &str,
        attempts: u32,
        after: Duration,
    ) -> impl Future<Output = Result<bool, StateError>> + Send;

    /// Removes a message whose delivery ended; false when it was already gone (another
    /// replica ended it first).
    fn finish(
        &self,
        kind: OutboxKind,
        id: &str,
    ) -> impl Future<Output = Result<bool, StateError>> + Send;

    /// Makes the messages of `ids` that this replica still holds due now (shutdown), waking
    /// the fleet; how many it gave back.
    fn hand_back(
        &self,
        kind: OutboxKind,
        ids: &[String],
    ) -> impl Future<Output = Result<u64, StateError>> + Send;

    /// Whether the notification of the request with `ticket` is stored (queued or being
    /// delivered): tells a notification that was lost from one already queued.
    fn holds_notification(
        &self,
        ticket: &str,
    ) -> impl Future<Output = Result<bool, StateError>> + Send;
}
