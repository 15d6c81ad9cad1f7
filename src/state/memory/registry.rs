//! The request registry (SPEC §5, §5.4) in two maps behind a mutex: by device-facing id, and
//! ticket → id. Bounded: beyond `MAX_ENTRIES` a request is served but not listed.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::MemoryState;
use crate::state::{Listing, Registry, StateError};

/// Entries kept at most; beyond it new requests are still served but not listed.
pub const MAX_ENTRIES: usize = 100_000;
/// How long past its expiry an entry can still be found (by id or ticket), as with `redis`.
const GRACE: Duration = Duration::from_secs(60);

struct Held {
    listing: Listing,
    expires: Instant,
}

#[derive(Default)]
pub(super) struct Listings {
    by_id: HashMap<String, Held>,
    by_ticket: HashMap<String, String>,
    /// No held entry leaves before this instant (its expiry and grace): a full registry is
    /// swept only once something can leave it, not on every refused insert.
    first_leaving: Option<Instant>,
}

impl Listings {
    /// Drops the entries past their expiry and its grace, if any can be.
    fn sweep(&mut self, now: Instant) {
        if self.first_leaving.is_some_and(|first| first > now) {
            return;
        }
        let by_ticket = &mut self.by_ticket;
        self.by_id.retain(|_, held| {
            let keep = held.expires + GRACE > now;
            if !keep {
                by_ticket.remove(&held.listing.ticket);
            }
            keep
        });
        self.first_leaving = self.by_id.values().map(|held| held.expires + GRACE).min();
    }
}

impl MemoryState {
    fn listings(&self) -> std::sync::MutexGuard<'_, Listings> {
        self.listings.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Registry for MemoryState {
    /// The deadline is the caller's timer: this backend does not share deadlines.
    async fn insert(
        &self,
        listing: &Listing,
        expires_in: Duration,
        _deadline_in: Duration,
    ) -> Result<bool, StateError> {
        let now = self.clock.instant();
        let mut listings = self.listings();
        if listings.by_id.len() >= MAX_ENTRIES {
            listings.sweep(now);
        }
        if listings.by_id.len() >= MAX_ENTRIES {
            return Ok(false);
        }
        listings
            .by_ticket
            .insert(listing.ticket.clone(), listing.id.clone());
        let held = Held {
            listing: listing.clone(),
            expires: now + expires_in,
        };
        let leaves = held.expires + GRACE;
        listings.first_leaving = Some(listings.first_leaving.map_or(leaves, |f| f.min(leaves)));
        listings.by_id.insert(listing.id.clone(), held);
        Ok(true)
    }

    async fn get(&self, id: &str) -> Result<Option<Listing>, StateError> {
        let now = self.clock.instant();
        Ok(self
            .listings()
            .by_id
            .get(id)
            .filter(|held| held.expires + GRACE > now)
            .map(|held| held.listing.clone()))
    }

    async fn remove(&self, ticket: &str) -> Result<Option<Listing>, StateError> {
        let mut listings = self.listings();
        let Some(id) = listings.by_ticket.remove(ticket) else {
            return Ok(None);
        };
        Ok(listings.by_id.remove(&id).map(|held| held.listing))
    }

    async fn list(&self, limit: usize) -> Result<Vec<Listing>, StateError> {
        let now = self.clock.instant();
        let listings = self.listings();
        let mut open: Vec<&Held> = listings
            .by_id
            .values()
            .filter(|held| held.expires > now)
            .collect();
        open.sort_by(|a, b| (a.expires, &a.listing.id).cmp(&(b.expires, &b.listing.id)));
        Ok(open
            .into_iter()
            .take(limit)
            .map(|held| held.listing.clone())
            .collect())
    }

    async fn count(&self) -> Result<u64, StateError> {
        let now = self.clock.instant();
        let open = self
            .listings()
            .by_id
            .values()
            .filter(|h| h.expires > now)
            .count();
        Ok(open as u64)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::tests::state_with_cap;
    use super::*;
    use crate::clock::ManualClock;

    const LONG: Duration = Duration::from_secs(600);

    fn listing(n: usize) -> Listing {
        Listing {
            id: format!("id-{n}"),
            ticket: format!("ticket-{n}"),
            issued_at: 0,
            record: String::new(),
        }
    }

    /// A full registry refuses until an entry is past its expiry and grace, then makes room,
    /// including for an entry that will leave before every one already held.
    #[tokio::test]
    async fn a_full_registry_takes_new_entries_once_held_ones_have_left() {
        let clock = Arc::new(ManualClock::new());
        let state = state_with_cap(clock.clone(), 1);
        for n in 0..MAX_ENTRIES {
            assert!(state.insert(&listing(n), LONG, LONG).await.unwrap());
        }
        assert!(!state
            .insert(&listing(MAX_ENTRIES), LONG, LONG)
            .await
            .unwrap());

        // Room made by a removal goes to an entry with a short life.
        assert!(state.remove("ticket-0").await.unwrap().is_some());
        let short = Duration::from_secs(1);
        assert!(state
            .insert(&listing(MAX_ENTRIES), short, short)
            .await
            .unwrap());
        clock.advance(short + GRACE - Duration::from_millis(1));
        assert!(!state
            .insert(&listing(MAX_ENTRIES + 1), LONG, LONG)
            .await
            .unwrap());
        assert!(state.get(&listing(MAX_ENTRIES).id).await.unwrap().is_some());

        // Past its grace it leaves, and its place is taken; the long-lived ones stay.
        clock.advance(Duration::from_millis(1));
        assert!(state
            .insert(&listing(MAX_ENTRIES + 1), LONG, LONG)
            .await
            .unwrap());
        assert_eq!(state.get(&listing(MAX_ENTRIES).id).await.unwrap(), None);
        assert_eq!(state.get("id-1").await.unwrap(), Some(listing(1)));
        assert_eq!(state.count().await.unwrap(), MAX_ENTRIES as u64);
    }
}
