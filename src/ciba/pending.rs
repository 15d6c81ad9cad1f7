//! The push-bombing guard (SPEC §4 step 4): at most `ciba.max_pending_per_user` issued,
//! undecided, unexpired requests per subject — per replica with the `memory` state backend, per
//! fleet with `redis`. The places live in the state backend (`state::PendingPlaces`); here is
//! what a reservation goes through and what a failing backend means for it.

use std::sync::Arc;
use std::time::Duration;

use crate::state::{PendingPlaces, Place, RequestKey, State, StateError};

pub struct PendingGuard {
    state: Arc<State>,
}

/// A place held for a request between the check and `/issue`: committed once the request is
/// issued, else given back (on `cancel`, or in the background when dropped). A place the
/// backend could not give back frees itself when its reservation expires.
pub struct Reservation {
    state: Arc<State>,
    subject: String,
    place: Option<Place>,
}

impl PendingGuard {
    pub fn new(state: Arc<State>) -> Self {
        Self { state }
    }

    /// Holds a place for `subject`; `Ok(None)` when the subject is at the cap. An error means
    /// the place could not be tracked: the request must not be issued (SPEC §12).
    pub async fn try_reserve(&self, subject: &str) -> Result<Option<Reservation>, StateError> {
        let place = self.state.reserve(subject).await?;
        Ok(place.map(|place| Reservation {
            state: self.state.clone(),
            subject: subject.to_owned(),
            place: Some(place),
        }))
    }

    /// Frees the place of the request with `key`: a decision was applied. On failure the place
    /// frees itself at the request's expiry.
    pub async fn release(&self, subject: &str, key: &RequestKey) {
        if let Err(e) = self.state.release(subject, key).await {
            log::warn!(
                "push-bombing guard: a decided request's place was not freed: {e}; it frees \
                 itself at the request's expiry"
            );
        }
    }
}

impl Reservation {
    /// The request was issued: it counts until `expires_in` has passed or it is released. An
    /// error means it could not be counted: the request must not be acknowledged (SPEC §12
    /// "Issue"); the reservation still counts until its own expiry.
    pub async fn commit(mut self, key: RequestKey, expires_in: Duration) -> Result<(), StateError> {
        let Some(place) = self.place.take() else {
            return Ok(());
        };
        self.state
            .commit(&self.subject, place, &key, expires_in)
            .await
    }

    /// The request was not issued: the place is free again.
    pub async fn cancel(mut self) {
        if let Some(place) = self.place.take() {
            cancel(&self.state, &self.subject, place).await;
        }
    }
}

impl Drop for Reservation {
    /// A reservation neither committed nor cancelled (the request's handling was abandoned):
    /// the place is given back in the background.
    fn drop(&mut self) {
        let Some(place) = self.place.take() else {
            return;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let (state, subject) = (self.state.clone(), std::mem::take(&mut self.subject));
            runtime.spawn(async move { cancel(&state, &subject, place).await });
        }
    }
}

async fn cancel(state: &State, subject: &str, place: Place) {
    if let Err(e) = state.cancel(subject, place).await {
        log::debug!("push-bombing guard: a reservation was not given back: {e}; it expires");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ciba::request_key;
    use crate::clock::{SharedClock, SystemClock};
    use crate::metrics::Metrics;

    /// A guard over the `memory` backend with a cap of one place per subject.
    fn guard() -> PendingGuard {
        let clock: SharedClock = Arc::new(SystemClock);
        let more = "[ciba]\nmax_pending_per_user = 1\n";
        let (_, state) = crate::state::memory_for_tests(more, clock, Metrics::new());
        PendingGuard::new(Arc::new(state))
    }

    async fn reserve(guard: &PendingGuard) -> Option<Reservation> {
        guard.try_reserve("alice").await.unwrap()
    }

    #[tokio::test]
    async fn a_cancelled_reservation_frees_its_place_at_once() {
        let guard = guard();
        let held = reserve(&guard).await.unwrap();
        assert!(reserve(&guard).await.is_none(), "the cap of one holds");
        held.cancel().await;
        assert!(reserve(&guard).await.is_some());
    }

    /// Handling abandoned between the check and `/issue` (its future dropped): the place comes
    /// back from the background, without anyone cancelling it.
    #[tokio::test]
    async fn a_dropped_reservation_frees_its_place_in_the_background() {
        let guard = guard();
        drop(reserve(&guard).await.unwrap());
        for _ in 0..100 {
            if reserve(&guard).await.is_some() {
                return;
            }
            tokio::task::yield_now().await;
        }
        panic!("the dropped reservation's place was not given back");
    }

    #[tokio::test]
    async fn a_committed_place_counts_until_its_request_is_released() {
        let guard = guard();
        let key = request_key("req-1");
        let held = reserve(&guard).await.unwrap();
        held.commit(key, Duration::from_secs(60)).await.unwrap();
        tokio::task::yield_now().await;
        assert!(reserve(&guard).await.is_none(), "an issued request counts");
        guard.release("bob", &key).await;
        assert!(reserve(&guard).await.is_none(), "another subject's release");
        guard.release("alice", &key).await;
        assert!(reserve(&guard).await.is_some());
    }
}
