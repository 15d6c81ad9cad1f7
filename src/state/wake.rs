//! Wake-ups of parked long polls (SPEC §14): when a decision or a deadline settles a request, the
//! replica that applied it wakes the token requests parked for it — in this process directly,
//! and, with `redis`, on every other replica through pub/sub on `{prefix}:wake`.
//!
//! A parked poll registers a `Waiter` under the request's wake id before it calls Authlete, so a
//! wake-up that comes while that call runs is not missed. The wake id is the request key with
//! `memory`, and its HMAC under `state.redis.key_hash_secret` with `redis`: the channel never
//! carries an auth_req_id or its plain SHA-256. A wake-up lost on the way (Redis unreachable, the
//! subscription reconnecting) costs the poll its early answer, never its answer: it ends at its
//! timeout.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

/// What a waiter is found by: the request key (`memory`) or its keyed digest (`redis`).
pub type WakeId = [u8; 32];

/// Why a request's parked polls are woken: the `cause` label of
/// `gateway_long_poll_wakeups_total` for the wake-ups that come from a settled request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WakeCause {
    /// The device's decision was applied (`/complete` answered).
    Decision,
    /// The gateway failed a ping/push request at its deadline.
    Deadline,
    /// A poll request reached its expiry (its deadline): Authlete now answers `expired_token`.
    Expiry,
}

impl WakeCause {
    pub const ALL: [WakeCause; 3] = [WakeCause::Decision, WakeCause::Deadline, WakeCause::Expiry];

    pub fn label(self) -> &'static str {
        match self {
            WakeCause::Decision => "decision",
            WakeCause::Deadline => "deadline",
            WakeCause::Expiry => "expiry",
        }
    }

    fn from_label(label: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|cause| cause.label() == label)
    }
}

/// One wake-up: why, and when it was applied (Unix ms on the applying replica's clock), for
/// `gateway_decision_to_token_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wake {
    pub cause: WakeCause,
    pub applied_at_ms: u64,
}

impl Wake {
    /// The pub/sub payload: `<cause> <applied_at_ms> <hex wake id>`.
    pub(super) fn encode(&self, id: &WakeId) -> String {
        format!(
            "{} {} {}",
            self.cause.label(),
            self.applied_at_ms,
            hex::encode(id)
        )
    }

    /// Reads a payload written by `encode`; anything else is `None` (and ignored).
    pub(super) fn decode(payload: &[u8]) -> Option<(WakeId, Wake)> {
        let text = std::str::from_utf8(payload).ok()?;
        let mut parts = text.split(' ');
        let cause = WakeCause::from_label(parts.next()?)?;
        let applied_at_ms = parts.next()?.parse().ok()?;
        let mut id = [0u8; 32];
        hex::decode_to_slice(parts.next()?, &mut id).ok()?;
        if parts.next().is_some() {
            return None;
        }
        Some((
            id,
            Wake {
                cause,
                applied_at_ms,
            },
        ))
    }
}

/// Each id's waiters: a slot number (to leave by) and where to send the wake-up.
type Slots = HashMap<WakeId, Vec<(u64, oneshot::Sender<Wake>)>>;

/// The waiters of this process, by wake id. A wake-up is delivered once, to every waiter of its
/// id registered at that moment; waiters leave when they are dropped.
#[derive(Default)]
pub struct Waiters {
    slots: Mutex<Slots>,
    next: AtomicU64,
}

impl Waiters {
    fn lock(&self) -> MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a waiter for `id`.
    pub fn register(self: &Arc<Self>, id: WakeId) -> Waiter {
        let slot = self.next.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = oneshot::channel();
        self.lock().entry(id).or_default().push((slot, sender));
        Waiter {
            waiters: Arc::clone(self),
            id,
            slot,
            receiver,
        }
    }

    /// Wakes every waiter of `id`; returns how many there were.
    pub fn deliver(&self, id: &WakeId, wake: Wake) -> usize {
        let Some(waiting) = self.lock().remove(id) else {
            return 0;
        };
        let count = waiting.len();
        for (_, sender) in waiting {
            // A waiter that is being dropped no longer listens.
            let _ = sender.send(wake);
        }
        count
    }

    /// How many waiters are registered (all ids).
    pub fn len(&self) -> usize {
        self.lock().values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn leave(&self, id: &WakeId, slot: u64) {
        let mut slots = self.lock();
        if let Some(waiting) = slots.get_mut(id) {
            waiting.retain(|(s, _)| *s != slot);
            if waiting.is_empty() {
                slots.remove(id);
            }
        }
    }
}

/// One registered waiter; it leaves its id's list when dropped.
pub struct Waiter {
    waiters: Arc<Waiters>,
    id: WakeId,
    slot: u64,
    receiver: oneshot::Receiver<Wake>,
}

impl Waiter {
    /// Resolves at the wake-up (at once if it came already); never, if none comes.
    pub async fn woken(&mut self) -> Wake {
        match (&mut self.receiver).await {
            Ok(wake) => wake,
            // The sender is only dropped after sending, or with the `Waiters` themselves,
            // which this waiter keeps alive.
            Err(_) => std::future::pending().await,
        }
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        self.waiters.leave(&self.id, self.slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wake(cause: WakeCause) -> Wake {
        Wake {
            cause,
            applied_at_ms: 1_700_000_000_123,
        }
    }

    #[test]
    fn a_payload_round_trips_and_garbage_is_refused() {
        let id = [0xab; 32];
        let payload = wake(WakeCause::Expiry).encode(&id);
        assert_eq!(
            Wake::decode(payload.as_bytes()),
            Some((id, wake(WakeCause::Expiry)))
        );
        for garbage in [
            "",
            "decision",
            "decision 1",
            "other 1 ab",
            "decision x abab",
            "decision 1 zz",
            &format!("{payload} extra"),
        ] {
            assert_eq!(Wake::decode(garbage.as_bytes()), None, "{garbage}");
        }
    }

    #[tokio::test]
    async fn every_waiter_of_the_id_is_woken_once_and_others_are_not() {
        let waiters = Arc::new(Waiters::default());
        let mut first = waiters.register([1; 32]);
        let mut second = waiters.register([1; 32]);
        let other = waiters.register([2; 32]);
        assert_eq!(waiters.deliver(&[1; 32], wake(WakeCause::Decision)), 2);
        assert_eq!(first.woken().await.cause, WakeCause::Decision);
        assert_eq!(second.woken().await.cause, WakeCause::Decision);
        assert_eq!(waiters.deliver(&[1; 32], wake(WakeCause::Decision)), 0);
        assert_eq!(waiters.len(), 1);
        drop(other);
        assert!(waiters.is_empty());
    }

    #[test]
    fn a_dropped_waiter_leaves() {
        let waiters = Arc::new(Waiters::default());
        let kept = waiters.register([1; 32]);
        drop(waiters.register([1; 32]));
        assert_eq!(waiters.len(), 1);
        drop(kept);
        assert!(waiters.is_empty());
        assert_eq!(waiters.deliver(&[1; 32], wake(WakeCause::Deadline)), 0);
    }
}
