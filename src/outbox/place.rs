//! A place held in the notification queue before `/complete` is called (SPEC §5.3), and the
//! notification sent into it: queued in this process (`memory`), or stored in the fleet's
//! outbox before the decision is answered (`redis`, SPEC §12).

use std::sync::Arc;

use super::attempt::Message;
use super::queue::Place;
use super::thread::Job;
use super::{notify, Notification, Outbox};
use crate::state::{OutboxKind, OutboxStore, Reservation, SharedOutbox};

/// One held place in the notification queue (and, with `redis`, in the fleet's outbox);
/// dropping it unused gives the place back.
pub struct NotificationPlace {
    /// Taken by `send`.
    pub(super) place: Option<Place>,
    pub(super) reservation: Option<(SharedOutbox, Reservation)>,
    pub(super) outbox: Arc<Outbox>,
}

impl NotificationPlace {
    /// Queues `notification` in the place held. True when it is stored where the fleet
    /// delivers it (always with `memory`, where the process is the fleet); false when the
    /// fleet's outbox failed: this replica then delivers it itself while it keeps trying to
    /// store it (SPEC §12).
    pub async fn send(mut self, mut notification: Notification) -> bool {
        notification.enqueued_at = self.outbox.clock.now();
        let Some(place) = self.place.take() else {
            return false;
        };
        let Some((store, reservation)) = self.reservation.take() else {
            return self.hand_over(notification, place, Job::Notify);
        };
        let kind = OutboxKind::Notification;
        let id = store.message_id(kind, &notification.ticket);
        let bytes = notification.to_bytes();
        let stored = store
            .enqueue(
                kind,
                &id,
                &bytes,
                notification.expires_at,
                Some(reservation),
            )
            .await;
        if let Ok(true) = stored {
            return true;
        }
        let why = match stored {
            Err(e) => e.to_string(),
            _ => "the notification outbox is full".to_owned(),
        };
        log::warn!(
            request_id = notification.request_id; "{} notification not stored ({why}); this replica delivers it and \
             keeps trying to store it",
            notification.mode.label()
        );
        self.hand_over(notification, place, Job::Unstored);
        false
    }

    /// Hands `notification` to the outbox thread as `job`; true unless the thread has stopped.
    fn hand_over(
        &self,
        notification: Notification,
        mut place: Place,
        job: fn(Notification, Place) -> Job,
    ) -> bool {
        let mode = notification.mode.label();
        place.hold_message(mode);
        let request_id = notification.request_id.clone();
        let auth_req_id = notify::fingerprint(&notification.auth_req_id);
        if self.outbox.jobs.send(job(notification, place)).is_ok() {
            return true;
        }
        self.outbox
            .metrics
            .notifications
            .with_label_values(&[mode, "failed"])
            .inc();
        log::error!(
            request_id = request_id; "{mode} notification (auth_req_id sha256 {auth_req_id}) \
             lost: the outbox thread has stopped"
        );
        false
    }
}

impl Drop for NotificationPlace {
    fn drop(&mut self) {
        if let Some((_, reservation)) = self.reservation.take() {
            let _ = self.outbox.jobs.send(Job::Release(reservation));
        }
    }
}
