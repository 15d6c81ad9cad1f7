//! The wake-ups of parked long polls across the fleet (SPEC §14): `PUBLISH` on `{prefix}:wake`
//! by the replica that settled a request, and one subscription per replica, on the backend's
//! runtime, that hands each wake-up to this process's waiters.

use std::sync::{Arc, Weak};

use super::RedisState;
use crate::state::wake::{Waiters, Wake, WakeId};
use crate::state::{RequestKey, StateError};

impl RedisState {
    /// The wake id of a request: its keyed digest, what the channel carries.
    pub(crate) fn wake_id(&self, key: &RequestKey) -> WakeId {
        self.keys.wake(key)
    }

    /// Subscribes to `{prefix}:wake` for as long as `waiters` live, and subscribes again after
    /// every lost connection; a wake-up published meanwhile is lost (its polls end at their
    /// timeout).
    pub(crate) fn listen_for_wakes(&self, waiters: &Arc<Waiters>) {
        let weak: Weak<Waiters> = Arc::downgrade(waiters);
        let alive = weak.clone();
        let on_message = Box::new(move |message: &redis::Msg| {
            let Some(waiters) = weak.upgrade() else {
                return false;
            };
            match Wake::decode(message.get_payload_bytes()) {
                Some((id, wake)) => {
                    waiters.deliver(&id, wake);
                }
                None => log::debug!("state backend: a malformed wake-up was ignored"),
            }
            true
        });
        let subscriber = self.wakes.clone();
        self.link.spawn(async move {
            subscriber
                .run(on_message, move || alive.strong_count() > 0)
                .await
        });
    }

    /// Tells every replica's waiters of `id`.
    pub(crate) async fn publish_wake(&self, id: &WakeId, wake: Wake) -> Result<(), StateError> {
        let (channel, payload) = (self.keys.wake_channel(), wake.encode(id));
        self.link
            .run(move |mut c| async move {
                let mut publish = redis::cmd("PUBLISH");
                publish.arg(channel).arg(payload);
                c.at_home::<i64>(publish).await
            })
            .await
            .map(drop)
    }
}
