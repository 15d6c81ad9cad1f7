//! Delivery from the fleet's outbox (`redis` backend, SPEC §12 "Outbox"): about every 250 ms,
//! and at once when a nudge says a message was enqueued or handed back, this replica claims
//! due messages up to its in-flight bounds and runs one attempt on each (the same unit as the
//! in-process loop), renewing its lease every third of it; then it reschedules the message
//! with its attempt count, or removes it and reports the outcome, once for the fleet.

use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::attempt::{pause, Message, Next, Progress};
use super::holdings::Holdings;
use super::worker::Worker;
use super::{Notification, WebhookMessage};
use crate::state::{Claimed, OutboxKind, OutboxStore, SharedOutbox};

/// How often the claim loop looks for due messages without a nudge (SPEC §12).
const CLAIM_EVERY: Duration = Duration::from_millis(250);

/// What the claim loop and its deliveries share.
pub(super) struct Fleet {
    pub store: SharedOutbox,
    pub holdings: Arc<Holdings>,
    pub lease: Duration,
    /// Claims stop once this turns true (shutdown).
    pub stopping: watch::Receiver<bool>,
}

/// Claims and delivers until shutdown begins.
pub(super) async fn claim_loop(worker: Rc<Worker>, fleet: Rc<Fleet>, webhook_limit: usize) {
    let nudges = fleet.store.nudges();
    let mut stopping = fleet.stopping.clone();
    let notification_limit = worker.config.max_in_flight;
    let webhooks = worker.config.webhook.is_some();
    loop {
        if *stopping.borrow() {
            return;
        }
        claim::<Notification>(&worker, &fleet, notification_limit).await;
        if webhooks {
            claim::<WebhookMessage>(&worker, &fleet, webhook_limit).await;
        }
        tokio::select! {
            _ = actix_rt::time::sleep(CLAIM_EVERY) => {}
            _ = nudges.next() => {}
            // An error means the `Outbox` is gone: nothing will be delivered any more.
            changed = stopping.changed() => if changed.is_err() {
                return;
            },
        }
    }
}

/// Claims what this replica can take of one kind, and starts delivering each message.
async fn claim<M: Message>(worker: &Rc<Worker>, fleet: &Rc<Fleet>, limit: usize) {
    let kind = M::KIND;
    let free = limit.saturating_sub(fleet.holdings.len(kind));
    if free == 0 {
        return;
    }
    let batch = match fleet.store.claim(kind, free).await {
        Ok(batch) => batch,
        Err(e) => {
            log::debug!("outbox: claiming {} messages failed ({e})", kind.label());
            return;
        }
    };
    let depth = &worker.config.metrics.outbox_depth;
    depth
        .with_label_values(&[kind.label()])
        .set(batch.depth as f64);
    for claimed in batch.claimed {
        if fleet.holdings.take(kind, &claimed.id) {
            let (worker, fleet) = (worker.clone(), fleet.clone());
            actix_rt::spawn(async move { deliver_claimed::<M>(&worker, &fleet, claimed).await });
        }
    }
}

/// One attempt on a claimed message, then its next due time or its end.
async fn deliver_claimed<M: Message>(worker: &Rc<Worker>, fleet: &Fleet, claimed: Claimed) {
    let (kind, store, id) = (M::KIND, &fleet.store, claimed.id.as_str());
    let Some(message) = M::from_bytes(&claimed.message) else {
        log::error!(
            "outbox: a stored {} message is unreadable; removed",
            kind.label()
        );
        let _ = store.finish(kind, id).await;
        return fleet.holdings.release(kind, id);
    };
    if claimed.takeover {
        let reclaimed = &worker.config.metrics.outbox_reclaimed;
        reclaimed.with_label_values(&[kind.label()]).inc();
        log::info!(
            request_id = message.request_id(); "{} message taken over from a replica whose lease ran out",
            kind.label()
        );
    }
    let before = match claimed.attempts {
        0 => M::not_attempted(),
        _ => "expired before the next attempt",
    };
    let mut progress = Progress::new(claimed.attempts, before);
    let step = super::attempt::traced(worker, &message, message.step(worker, &mut progress));
    let next = renewing(store, kind, id, fleet.lease, step).await;
    match next {
        Next::End(end) => match store.finish(kind, id).await {
            Ok(false) => log::debug!(
                request_id = message.request_id(); "{} message ended by another replica first",
                kind.label()
            ),
            _ => message.report(worker, &progress, end),
        },
        Next::Retry(wait) => {
            if let Err(e) = store.retry(kind, id, progress.attempts, wait).await {
                log::warn!(
                    request_id = message.request_id(); "{} message stays leased until its lease ends: {e}",
                    kind.label()
                );
            }
        }
    }
    fleet.holdings.release(kind, id);
}

/// Runs `work`, renewing the lease on `id` every third of it meanwhile.
async fn renewing<F: Future>(
    store: &SharedOutbox,
    kind: OutboxKind,
    id: &str,
    lease: Duration,
    work: F,
) -> F::Output {
    let mut work = pin!(work);
    loop {
        tokio::select! {
            done = &mut work => return done,
            _ = actix_rt::time::sleep(lease / 3) => {
                if let Ok(false) = store.renew(kind, id).await {
                    log::debug!("outbox: the lease on a {} message passed to another replica",
                        kind.label());
                }
            }
        }
    }
}

/// Stores `message`, or, while the fleet's outbox does not take it (Redis failed, or the kind
/// is full), delivers it from this process, trying to store it again before every attempt:
/// once stored, the fleet delivers it (SPEC §12: a notification Authlete already answered is
/// never dropped).
pub(super) async fn deliver_unstored<M: Message>(
    worker: Rc<Worker>,
    store: SharedOutbox,
    message: M,
) {
    let id = store.message_id(M::KIND, message.name());
    let bytes = message.to_bytes();
    let mut progress = Progress::new(0, M::not_attempted());
    loop {
        let stored = store
            .enqueue(M::KIND, &id, &bytes, message.expires_at(), None)
            .await;
        if let Ok(true) = stored {
            log::info!(
                request_id = message.request_id(); "{} message stored after all; the fleet delivers it",
                M::KIND.label()
            );
            return;
        }
        match super::attempt::traced(&worker, &message, message.step(&worker, &mut progress)).await
        {
            Next::End(end) => return message.report(&worker, &progress, end),
            Next::Retry(wait) => pause(&worker, wait).await,
        }
    }
}
