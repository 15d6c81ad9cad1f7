//! The outbox thread: its own single-threaded actix runtime, where the `!Send` awc clients live
//! and every delivery runs as a local task, whichever runtime the callers use.

use std::rc::Rc;

use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::limits::Limits;
use super::queue::Place;
use super::shared::{claim_loop, deliver_unstored, Fleet};
use super::worker::{Worker, WorkerConfig};
use super::{http, notify, webhook, Notification, WebhookMessage};
use crate::state::{OutboxKind, OutboxStore, Reservation};

/// Webhook requests in flight at once: one operator endpoint, sized for bursts of issued
/// requests without opening hundreds of connections to it.
const WEBHOOK_MAX_IN_FLIGHT: usize = 32;

/// Work handed to the thread, with the queue place it holds until delivery ends.
pub(super) enum Job {
    Notify(Notification, Place),
    Webhook(WebhookMessage, Place),
    /// A notification the fleet's outbox did not take: delivered from here while storing it
    /// is retried (`redis`).
    Unstored(Notification, Place),
    /// A best-effort webhook message for the fleet's outbox (`redis`).
    StoreWebhook(WebhookMessage, Place),
    /// A reserved place in the fleet's outbox that no notification will use (`redis`).
    Release(Reservation),
}

/// Starts the thread; returns once its runtime is running, or with the reason it could not.
pub(super) fn spawn(
    config: WorkerConfig,
    jobs: UnboundedReceiver<Job>,
    fleet: Option<Fleet>,
) -> Result<(), String> {
    let (started, outcome) = std::sync::mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("outbox".into())
        .spawn(move || match actix_rt::Runtime::new() {
            Ok(runtime) => {
                let _ = started.send(Ok(()));
                runtime.block_on(run(config, jobs, fleet));
            }
            Err(e) => {
                let _ = started.send(Err(format!("starting the outbox runtime: {e}")));
            }
        })
        .map_err(|e| format!("starting the outbox thread: {e}"))?;
    outcome
        .recv()
        .map_err(|_| "the outbox thread stopped while starting".to_owned())?
}

/// Runs jobs (and, with the fleet's outbox, the claim loop) until every sender (the `Outbox`,
/// which the notification places also hold) is gone, then lets the deliveries still running
/// finish: they end by their own deadlines.
async fn run(config: WorkerConfig, mut jobs: UnboundedReceiver<Job>, fleet: Option<Fleet>) {
    let worker = Rc::new(Worker {
        notifications: http::notification_client(
            config.notification_tls.clone(),
            config.attempt_timeout,
            config.max_in_flight,
        ),
        webhooks: config.webhook.as_ref().map(|hook| {
            http::webhook_client(hook.tls.clone(), hook.timeout, WEBHOOK_MAX_IN_FLIGHT)
        }),
        limits: Limits::new(config.max_in_flight, config.max_in_flight_per_host),
        webhook_in_flight: Semaphore::new(WEBHOOK_MAX_IN_FLIGHT),
        config,
    });
    let fleet = fleet.map(Rc::new);
    let mut deliveries = JoinSet::new();
    if let Some(fleet) = &fleet {
        actix_rt::spawn(claim_loop(
            worker.clone(),
            fleet.clone(),
            WEBHOOK_MAX_IN_FLIGHT,
        ));
    }
    loop {
        tokio::select! {
            job = jobs.recv() => match (job, &fleet) {
                (Some(Job::Notify(n, place)), _) => {
                    deliveries.spawn_local(notify::deliver(worker.clone(), n, place));
                }
                (Some(Job::Webhook(m, place)), _) => {
                    deliveries.spawn_local(webhook::deliver(worker.clone(), m, place));
                }
                (Some(Job::Unstored(n, place)), Some(fleet)) => {
                    let (worker, store) = (worker.clone(), fleet.store.clone());
                    deliveries.spawn_local(async move {
                        let _place = place;
                        deliver_unstored(worker, store, n).await;
                    });
                }
                (Some(Job::StoreWebhook(m, place)), Some(fleet)) => {
                    let (worker, store) = (worker.clone(), fleet.store.clone());
                    deliveries.spawn_local(async move {
                        let _place = place;
                        deliver_unstored(worker, store, m).await;
                    });
                }
                (Some(Job::Release(reservation)), Some(fleet)) => {
                    let store = fleet.store.clone();
                    deliveries.spawn_local(async move {
                        // Unreleased, the place stops counting by itself.
                        let _ = store.release_place(OutboxKind::Notification, reservation).await;
                    });
                }
                // Only an `Outbox` with the fleet's outbox sends these.
                (Some(Job::Unstored(..) | Job::StoreWebhook(..) | Job::Release(_)), None) => {}
                (None, _) => break,
            },
            // Reaps finished deliveries so the set holds only running ones.
            Some(_) = deliveries.join_next(), if !deliveries.is_empty() => {}
        }
    }
    while deliveries.join_next().await.is_some() {}
}
