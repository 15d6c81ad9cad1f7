//! The bounded queues' bookkeeping: how many places are held, and waiting until none is.
//!
//! A place is held from the moment it is taken (before `/complete` for notifications, SPEC §5.3)
//! until its delivery ends, so the bound covers waiting, retrying and in-flight messages alike.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use prometheus::Gauge;
use tokio::sync::watch;

pub(super) struct Queue {
    held: watch::Sender<usize>,
    capacity: usize,
    /// `gateway_outbox_depth` of this kind, when the in-process queue is the outbox (`memory`).
    depth: Option<Gauge>,
    /// Places holding a message, by the message's metric label (mode, webhook type): what a
    /// shutdown that gives up abandons.
    labelled: Mutex<BTreeMap<&'static str, usize>>,
}

impl Queue {
    pub fn new(capacity: usize, depth: Option<Gauge>) -> Arc<Self> {
        Arc::new(Self {
            held: watch::Sender::new(0),
            capacity,
            depth,
            labelled: Mutex::new(BTreeMap::new()),
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
            label: None,
        })
    }

    pub fn held(&self) -> usize {
        *self.held.borrow()
    }

    /// Places holding a message, by its label.
    pub fn held_by_label(&self) -> Vec<(&'static str, usize)> {
        let labelled = self.labelled.lock().unwrap_or_else(|e| e.into_inner());
        labelled.iter().map(|(label, n)| (*label, *n)).collect()
    }

    fn count_label(&self, label: &'static str, add: bool) {
        let mut labelled = self.labelled.lock().unwrap_or_else(|e| e.into_inner());
        let n = labelled.entry(label).or_default();
        *n = if add { *n + 1 } else { n.saturating_sub(1) };
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
    label: Option<&'static str>,
}

impl Place {
    /// Marks the place as holding a message with this metric label, until it is dropped.
    pub fn hold_message(&mut self, label: &'static str) {
        if self.label.is_none() {
            self.queue.count_label(label, true);
            self.label = Some(label);
        }
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let queue = &self.queue;
        if let Some(label) = self.label {
            queue.count_label(label, false);
        }
        queue.held.send_modify(|held| {
            *held = held.saturating_sub(1);
            queue.show(*held);
        });
    }
}
