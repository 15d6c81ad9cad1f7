//! The console's notification sink (SPEC §5.4): the last notifications the demo ping and push
//! clients received, kept so that the console can show them. Bounded; shared by the admin
//! workers.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde_json::Value;

/// Notifications the sink keeps.
const SINK_ENTRIES: usize = 50;

/// The last notifications received by the sink, newest last.
#[derive(Default)]
pub struct NotificationSink(Mutex<VecDeque<Value>>);

impl NotificationSink {
    /// Records `entry`, dropping the oldest beyond the bound.
    pub fn push(&self, entry: Value) {
        let mut entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() == SINK_ENTRIES {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    /// Every entry, oldest first.
    pub fn list(&self) -> Vec<Value> {
        let entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
        entries.iter().cloned().collect()
    }
}
