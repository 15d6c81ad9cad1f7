//! The pending places of SPEC §4 step 4 in one map of subjects, behind a mutex: reserving is
//! one critical section, so concurrent requests never overshoot the cap.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::MemoryState;
use crate::state::{PendingPlaces, Place, RequestKey, StateError};

/// Subjects held before the first sweep of expired entries.
const SWEEP_THRESHOLD: usize = 10_000;

#[derive(Debug, Clone)]
struct Slot {
    place: Place,
    key: Option<RequestKey>,
    expires: Instant,
}

pub(super) struct Places {
    next_place: u128,
    by_subject: HashMap<String, Vec<Slot>>,
    /// Subjects held before the next sweep of expired entries; doubles with the live count,
    /// so sweeping costs amortised O(1) per reservation.
    sweep_above: usize,
}

impl Default for Places {
    fn default() -> Self {
        Self {
            next_place: 0,
            by_subject: HashMap::new(),
            sweep_above: SWEEP_THRESHOLD,
        }
    }
}

impl Places {
    fn remove(&mut self, subject: &str, matches: impl Fn(&Slot) -> bool) {
        if let Some(slots) = self.by_subject.get_mut(subject) {
            slots.retain(|s| !matches(s));
            if slots.is_empty() {
                self.by_subject.remove(subject);
            }
        }
    }
}

impl MemoryState {
    fn places(&self) -> std::sync::MutexGuard<'_, Places> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl PendingPlaces for MemoryState {
    async fn reserve(&self, subject: &str) -> Result<Option<Place>, StateError> {
        let now = self.clock.instant();
        let mut places = self.places();
        if places.by_subject.len() > places.sweep_above {
            places.by_subject.retain(|_, slots| {
                slots.retain(|s| s.expires > now);
                !slots.is_empty()
            });
            places.sweep_above = SWEEP_THRESHOLD.max(places.by_subject.len() * 2);
        }
        places.next_place += 1;
        let place = Place(places.next_place);
        let slots = places.by_subject.entry(subject.to_owned()).or_default();
        slots.retain(|s| s.expires > now);
        if slots.len() >= self.guards.max_pending {
            return Ok(None);
        }
        slots.push(Slot {
            place,
            key: None,
            expires: now + self.guards.reservation_ttl,
        });
        Ok(Some(place))
    }

    async fn commit(
        &self,
        subject: &str,
        place: Place,
        key: &RequestKey,
        lifetime: Duration,
    ) -> Result<(), StateError> {
        let expires = self.clock.instant() + lifetime;
        let mut places = self.places();
        let slots = places.by_subject.entry(subject.to_owned()).or_default();
        let committed = Slot {
            place,
            key: Some(*key),
            expires,
        };
        // A reservation that outlived its TTL was swept: the issued request counts all the same.
        match slots.iter_mut().find(|s| s.place == place) {
            Some(slot) => *slot = committed,
            None => slots.push(committed),
        }
        Ok(())
    }

    async fn cancel(&self, subject: &str, place: Place) -> Result<(), StateError> {
        self.places()
            .remove(subject, |s| s.place == place && s.key.is_none());
        Ok(())
    }

    async fn release(&self, subject: &str, key: &RequestKey) -> Result<(), StateError> {
        self.places()
            .remove(subject, |s| s.key.as_ref() == Some(key));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::tests::{state_with_cap, TTL};
    use super::*;
    use crate::clock::ManualClock;

    fn state(clock: Arc<ManualClock>) -> MemoryState {
        state_with_cap(clock, 1)
    }

    async fn reserve_each(state: &MemoryState, subjects: impl Iterator<Item = usize>) {
        for n in subjects {
            let place = state.reserve(&format!("subject-{n}")).await.unwrap();
            assert!(place.is_some(), "subject-{n} has a free place");
        }
    }

    /// Subjects whose places all expired are dropped once more than the threshold are held,
    /// not before, and the threshold follows the live count, so the map stays bounded by what is
    /// live at an amortised cost.
    #[tokio::test]
    async fn subjects_are_swept_past_the_threshold_which_doubles_with_the_live_count() {
        let clock = Arc::new(ManualClock::new());
        let state = state(clock.clone());
        reserve_each(&state, 0..=SWEEP_THRESHOLD).await;
        assert_eq!(state.places().by_subject.len(), SWEEP_THRESHOLD + 1);
        assert_eq!(state.places().sweep_above, SWEEP_THRESHOLD, "no sweep yet");

        // Every place expired: the next reservation sweeps them all.
        clock.advance(TTL);
        reserve_each(&state, [SWEEP_THRESHOLD + 1].into_iter()).await;
        assert_eq!(state.places().by_subject.len(), 1);
        assert_eq!(state.places().sweep_above, SWEEP_THRESHOLD);

        // Every place live: the sweep keeps them and doubles the threshold.
        let live = SWEEP_THRESHOLD + 1;
        reserve_each(&state, (1..live).map(|n| SWEEP_THRESHOLD + 1 + n)).await;
        assert_eq!(state.places().by_subject.len(), live);
        reserve_each(&state, [3 * SWEEP_THRESHOLD].into_iter()).await;
        assert_eq!(state.places().by_subject.len(), live + 1);
        assert_eq!(state.places().sweep_above, 2 * live);
    }

    /// Cancelling one reservation gives back that place only: neither another reservation nor
    /// an issued request of the same subject.
    #[tokio::test]
    async fn a_cancel_frees_its_own_place_only() {
        let clock = Arc::new(ManualClock::new());
        let state = state_with_cap(clock, 3);
        let issued = state.reserve("alice").await.unwrap().unwrap();
        state.commit("alice", issued, &[1; 32], TTL).await.unwrap();
        let cancelled = state.reserve("alice").await.unwrap().unwrap();
        let kept = state.reserve("alice").await.unwrap().unwrap();
        assert!(
            cancelled != kept && cancelled != issued,
            "one place per reservation"
        );
        state.cancel("alice", cancelled).await.unwrap();
        assert!(
            state.reserve("alice").await.unwrap().is_some(),
            "its place is free"
        );
        assert!(
            state.reserve("alice").await.unwrap().is_none(),
            "the others still count"
        );
    }

    /// A reservation counts for exactly its TTL.
    #[tokio::test]
    async fn a_reservation_stops_counting_when_its_ttl_is_over() {
        let clock = Arc::new(ManualClock::new());
        let state = state(clock.clone());
        assert!(state.reserve("alice").await.unwrap().is_some());
        clock.advance(TTL - Duration::from_millis(1));
        assert!(state.reserve("alice").await.unwrap().is_none());
        clock.advance(Duration::from_millis(1));
        assert!(state.reserve("alice").await.unwrap().is_some());
    }
}
