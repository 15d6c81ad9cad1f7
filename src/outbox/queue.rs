//! The bounded queues' bookkeeping: how many places are held, and waiting until none is.
//!
//! A place is held from the moment it is taken (before `/complete` for notifications, SPEC §5.3)
//! until its delivery ends, so the bound covers waiting, retrying and in-flight messages alike.

use std::sync::Arc;

use prometheus::Gauge;
use tokio::sync::watch;

pub(super) struct Queue {
    held: watch::Sender<usize>,
    capacity: usize,
    /// `gateway_outbox_depth` of this kind, when the in-process queue is the outbox (`memory`).
    depth: Option<Gauge>,
}

impl Queue {
    pub fn new(capacity: usize, depth: Option<Gauge>) -> Arc<Self> {
        Arc::new(Self {
            held: watch::Sender::new(0),
            capacity,
            depth,
        })
    }

    fn show(&self, held: usize) {
        if let Some(depth) = &self.depth {
            depth.set(held as f64);
        }
    }

    /// A place, or None when `capacity` are held.
    pub fn try_hold(self: &Arc<Self>) -> Option<Place> {
        let taken = self.held.send_if_modified(|held| {
            let free = *held < self.capacity;
            if free {
                *held += 1;
                self.show(*held);
            }
            free
        });
        taken.then(|| Place {
            queue: Arc::clone(self),
        })
    }

    pub fn held(&self) -> usize {
        *self.held.borrow()
    }

    /// Resolves once no place is held.
    pub async fn idle(&self) {
        let mut held = self.held.subscribe();
        // Fails only when the sender is gone, and `self` owns it.
        let _ = held.wait_for(|n| *n == 0).await;
    }
}

/// One held place; dropping it gives the place back.
pub(super) struct Place {
    queue: Arc<Queue>,
}

impl Drop for Place {
    fn drop(&mut self) {
        let queue = &self.queue;
        queue.held.send_modify(|held| {
            *held = held.saturating_sub(1);
            queue.show(*held);
        });
    }
}
