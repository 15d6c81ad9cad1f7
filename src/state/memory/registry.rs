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
}

impl Listings {
    /// Drops the entries past their expiry and its grace.
    fn sweep(&mut self, now: Instant) {
        let by_ticket = &mut self.by_ticket;
        self.by_id.retain(|_, held| {
            let keep = held.expires + GRACE > now;
            if !keep {
                by_ticket.remove(&held.listing.ticket);
            }
            keep
        });
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
