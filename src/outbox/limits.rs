//! Concurrency bounds of the outbox thread: `notifications.max_in_flight` requests in all and
//! `notifications.max_in_flight_per_host` per receiver, so one slow client cannot take every
//! connection.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub(super) struct Limits {
    global: Arc<Semaphore>,
    per_host_max: usize,
    /// Only hosts with a request in flight or waiting: entries go when their last user does.
    per_host: RefCell<HashMap<String, Arc<Semaphore>>>,
}

impl Limits {
    pub fn new(max_in_flight: usize, max_in_flight_per_host: usize) -> Rc<Self> {
        Rc::new(Self {
            // `Semaphore::new` panics above MAX_PERMITS (about 2^61): far beyond any setting.
            global: Arc::new(Semaphore::new(max_in_flight.min(Semaphore::MAX_PERMITS))),
            per_host_max: max_in_flight_per_host.min(Semaphore::MAX_PERMITS),
            per_host: RefCell::new(HashMap::new()),
        })
    }

    /// Waits for a place for one request to `authority`.
    pub async fn enter(self: &Rc<Self>, authority: &str) -> InFlight {
        let host = Arc::clone(
            self.per_host
                .borrow_mut()
                .entry(authority.to_owned())
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_host_max))),
        );
        // The host's place first: a request queued behind a busy host holds no global place.
        // Neither semaphore is ever closed, so `ok()` never drops a permit.
        let host_permit = Arc::clone(&host).acquire_owned().await.ok();
        let global_permit = Arc::clone(&self.global).acquire_owned().await.ok();
        InFlight {
            permits: Some((host_permit, global_permit)),
            host,
            authority: authority.to_owned(),
            limits: Rc::clone(self),
        }
    }
}

/// A request's places; dropping it frees them.
pub(super) struct InFlight {
    permits: Option<(Option<OwnedSemaphorePermit>, Option<OwnedSemaphorePermit>)>,
    host: Arc<Semaphore>,
    authority: String,
    limits: Rc<Limits>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        // Permits hold the semaphore too: release them before counting its users.
        self.permits = None;
        let mut per_host = self.limits.per_host.borrow_mut();
        // Two users left (the map and this request): nobody else is in flight or waiting.
        if Arc::strong_count(&self.host) <= 2 {
            per_host.remove(&self.authority);
        }
    }
}
