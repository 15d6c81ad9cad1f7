//! The push-bombing guard: at most `ciba.max_pending_per_user` issued, undecided, unexpired
//! requests per subject at this replica.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::clock::SharedClock;

/// How long a reservation may wait for `/issue` before it stops counting.
const RESERVATION_TTL: Duration = Duration::from_secs(60);
/// Subjects held before the first sweep of expired entries.
const SWEEP_THRESHOLD: usize = 10_000;

#[derive(Debug, Clone)]
struct Slot {
    id: u64,
    key: Option<[u8; 32]>,
    expires: Instant,
}

struct Inner {
    next_id: u64,
    by_subject: HashMap<String, Vec<Slot>>,
    /// Subjects held before the next sweep of expired entries; doubles with the live count,
    /// so sweeping costs amortised O(1) per reservation.
    sweep_above: usize,
}

impl Default for Inner {
    fn default() -> Self {
        Self {
            next_id: 0,
            by_subject: HashMap::new(),
            sweep_above: SWEEP_THRESHOLD,
        }
    }
}

pub struct PendingGuard {
    inner: Mutex<Inner>,
    max_per_subject: usize,
    clock: SharedClock,
}

/// A place held for a request between the check and `/issue`; released on drop unless
/// committed.
pub struct Reservation {
    guard: Arc<PendingGuard>,
    subject: String,
    id: u64,
    committed: bool,
}

impl PendingGuard {
    pub fn new(max_per_subject: usize, clock: SharedClock) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            max_per_subject,
            clock,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Holds a place for `subject`, or `None` when the subject is at the limit.
    pub fn try_reserve(self: &Arc<Self>, subject: &str) -> Option<Reservation> {
        let now = self.clock.instant();
        let mut inner = self.lock();
        if inner.by_subject.len() > inner.sweep_above {
            inner.by_subject.retain(|_, slots| {
                slots.retain(|s| s.expires > now);
                !slots.is_empty()
            });
            inner.sweep_above = SWEEP_THRESHOLD.max(inner.by_subject.len() * 2);
        }
        inner.next_id += 1;
        let id = inner.next_id;
        let slots = inner.by_subject.entry(subject.to_owned()).or_default();
        slots.retain(|s| s.expires > now);
        if slots.len() >= self.max_per_subject {
            return None;
        }
        slots.push(Slot {
            id,
            key: None,
            expires: now + RESERVATION_TTL,
        });
        Some(Reservation {
            guard: Arc::clone(self),
            subject: subject.to_owned(),
            id,
            committed: false,
        })
    }

    /// Removes the request with `key` (a decision was applied on this replica).
    pub fn release(&self, subject: &str, key: &[u8; 32]) {
        self.remove(subject, |s| s.key.as_ref() == Some(key));
    }

    /// Requests of `subject` that still count.
    pub fn count(&self, subject: &str) -> usize {
        let now = self.clock.instant();
        self.lock()
            .by_subject
            .get(subject)
            .map_or(0, |slots| slots.iter().filter(|s| s.expires > now).count())
    }

    fn remove(&self, subject: &str, matches: impl Fn(&Slot) -> bool) {
        let mut inner = self.lock();
        if let Some(slots) = inner.by_subject.get_mut(subject) {
            slots.retain(|s| !matches(s));
            if slots.is_empty() {
                inner.by_subject.remove(subject);
            }
        }
    }
}

impl Reservation {
    /// The request was issued: it counts until `expires_in` has passed or it is released.
    pub fn commit(mut self, key: [u8; 32], expires_in: Duration) {
        let expires = self.guard.clock.instant() + expires_in;
        let mut inner = self.guard.lock();
        if let Some(slot) = inner
            .by_subject
            .get_mut(&self.subject)
            .and_then(|slots| slots.iter_mut().find(|s| s.id == self.id))
        {
            slot.key = Some(key);
            slot.expires = expires;
        }
        self.committed = true;
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.committed {
            let id = self.id;
            self.guard.remove(&self.subject, |s| s.id == id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn caps_pending_requests_and_frees_them_at_expiry_or_release() {
        let clock = Arc::new(ManualClock::new());
        let guard = Arc::new(PendingGuard::new(2, clock.clone()));
        let first = guard.try_reserve("alice");
        assert!(first.is_some());
        if let Some(r) = first {
            r.commit([1; 32], Duration::from_secs(100));
        }
        let second = guard.try_reserve("alice");
        assert!(second.is_some());
        assert!(guard.try_reserve("alice").is_none(), "limit reached");
        drop(second);
        assert_eq!(
            guard.count("alice"),
            1,
            "an uncommitted reservation is released on drop"
        );
        guard.release("alice", &[1; 32]);
        assert_eq!(guard.count("alice"), 0);
        if let Some(r) = guard.try_reserve("alice") {
            r.commit([2; 32], Duration::from_secs(100));
        }
        clock.advance(Duration::from_secs(101));
        assert_eq!(guard.count("alice"), 0, "expired requests stop counting");
    }
}
