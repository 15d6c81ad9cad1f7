//! The outbox thread: its own single-threaded actix runtime, where the `!Send` awc clients live
//! and every delivery runs as a local task, whichever runtime the callers use.

use std::rc::Rc;

use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::limits::Limits;
use super::queue::Place;
use super::worker::{Worker, WorkerConfig};
use super::{http, notify, webhook, Notification, WebhookMessage};

/// Webhook requests in flight at once: one operator endpoint, sized for bursts of issued
/// requests without opening hundreds of connections to it.
const WEBHOOK_MAX_IN_FLIGHT: usize = 32;

/// Work handed to the thread, with the queue place it holds until delivery ends.
pub(super) enum Job {
    Notify(Notification, Place),
    Webhook(WebhookMessage, Place),
}

/// Starts the thread; returns once its runtime is running, or with the reason it could not.
pub(super) fn spawn(config: WorkerConfig, jobs: UnboundedReceiver<Job>) -> Result<(), String> {
    let (started, outcome) = std::sync::mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("outbox".into())
        .spawn(move || match actix_rt::Runtime::new() {
            Ok(runtime) => {
                let _ = started.send(Ok(()));
                runtime.block_on(run(config, jobs));
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

/// Runs jobs until every sender (the `Outbox` and its slots) is gone, then lets the deliveries
/// still running finish: they end by their own deadlines.
async fn run(config: WorkerConfig, mut jobs: UnboundedReceiver<Job>) {
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
    let mut deliveries = JoinSet::new();
    loop {
        tokio::select! {
            job = jobs.recv() => match job {
                Some(Job::Notify(n, place)) => {
                    deliveries.spawn_local(notify::deliver(worker.clone(), n, place));
                }
                Some(Job::Webhook(m, place)) => {
                    deliveries.spawn_local(webhook::deliver(worker.clone(), m, place));
                }
                None => break,
            },
            // Reaps finished deliveries so the set holds only running ones.
            Some(_) = deliveries.join_next(), if !deliveries.is_empty() => {}
        }
    }
    while deliveries.join_next().await.is_some() {}
}
