//! The messages this replica holds leases on (`redis` backend), per kind: what the claim loop
//! may still take (in-flight bounds) and what a stopping replica hands back (SPEC §12
//! "Shutdown").

use std::collections::HashSet;
use std::sync::Mutex;

use tokio::sync::watch;

use crate::state::OutboxKind;

pub(super) struct Holdings {
    notifications: Mutex<HashSet<String>>,
    webhooks: Mutex<HashSet<String>>,
    /// How many are held in all, so that a drain can wait for none.
    count: watch::Sender<usize>,
}

impl Holdings {
    pub fn new() -> Self {
        Self {
            notifications: Mutex::new(HashSet::new()),
            webhooks: Mutex::new(HashSet::new()),
            count: watch::Sender::new(0),
        }
    }

    fn of(&self, kind: OutboxKind) -> std::sync::MutexGuard<'_, HashSet<String>> {
        let set = match kind {
            OutboxKind::Notification => &self.notifications,
            OutboxKind::Webhook => &self.webhooks,
        };
        set.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn len(&self, kind: OutboxKind) -> usize {
        self.of(kind).len()
    }

    /// False when the id is held already (a lease renewed by a second claim).
    pub fn take(&self, kind: OutboxKind, id: &str) -> bool {
        let taken = self.of(kind).insert(id.to_owned());
        if taken {
            self.count.send_modify(|n| *n += 1);
        }
        taken
    }

    pub fn release(&self, kind: OutboxKind, id: &str) {
        if self.of(kind).remove(id) {
            self.count.send_modify(|n| *n = n.saturating_sub(1));
        }
    }

    pub fn ids(&self, kind: OutboxKind) -> Vec<String> {
        self.of(kind).iter().cloned().collect()
    }

    /// Resolves once nothing is held.
    pub async fn idle(&self) {
        let mut count = self.count.subscribe();
        // Fails only when the sender is gone, and `self` owns it.
        let _ = count.wait_for(|n| *n == 0).await;
    }
}
