//! Detached work: `/complete` calls and deadline timers, which no client disconnect or handler
//! timeout may cancel, and which a graceful shutdown lets finish within its budget.
//!
//! A decision's job runs on the worker that received it, spawned apart from the request and
//! counted, so that the decision, its `/complete` and the answer to the device wait on no other
//! thread; shutdown stops giving jobs to the workers and waits for theirs before it stops the
//! workers. Timers, jobs that arrive once shutdown has begun and jobs from a listener without
//! clients of its own run on a dedicated background thread.

use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::LocalBoxFuture;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::authlete::{AuthleteClient, AuthleteTarget};
use crate::config::Settings;
use crate::directory::DirectoryClient;
use crate::metrics::Metrics;
use crate::telemetry::Tracer;

/// What a detached job may use: one thread's clients (awc's are `!Send`), built once per
/// thread and never moved to another.
pub struct Context {
    pub authlete: AuthleteClient,
    pub directory: DirectoryClient,
    /// The application's tracer, for the work no request started (the deadlines).
    pub tracer: Option<Tracer>,
}

type JobFn = Box<dyn FnOnce(Rc<Context>) -> LocalBoxFuture<'static, ()> + Send>;

struct Job {
    run: JobFn,
    /// Tracked jobs are waited for at shutdown; timers are not.
    tracked: bool,
}

pub struct Background {
    jobs: mpsc::UnboundedSender<Job>,
    tracker: TaskTracker,
    /// The jobs running on the listeners' workers.
    on_workers: WorkerJobs,
    /// Cancelled when the background thread starts draining at shutdown: waits end early, so
    /// held work is handed back at once.
    closing: CancellationToken,
    arbiter: actix_rt::ArbiterHandle,
}

/// Jobs on the workers, counted so that shutdown can wait for them before the workers stop;
/// `open` turns false, under its lock, before that wait begins, so no job is counted after it.
struct WorkerJobs {
    open: Mutex<bool>,
    tracker: TaskTracker,
}

impl Background {
    /// Starts the thread and its Authlete client.
    pub fn start(
        settings: &Settings,
        target: Arc<AuthleteTarget>,
        tls: Arc<rustls::ClientConfig>,
        metrics: Metrics,
        tracer: Option<Tracer>,
    ) -> Result<Self, String> {
        let settings = settings.clone();
        let (jobs, mut queue) = mpsc::unbounded_channel::<Job>();
        let tracker = TaskTracker::new();
        let loop_tracker = tracker.clone();
        let arbiter = actix_rt::Arbiter::try_new()
            .map_err(|e| format!("the background runtime did not start: {e}"))?;
        let started = arbiter.spawn_fn(move || {
            // awc's client is !Send: it is built on this thread and never leaves it.
            let context = Rc::new(Context {
                directory: DirectoryClient::new(&settings, tls.clone()),
                authlete: AuthleteClient::new(target, tls, metrics),
                tracer,
            });
            actix_rt::spawn(async move {
                while let Some(job) = queue.recv().await {
                    let future = (job.run)(context.clone());
                    if job.tracked {
                        actix_rt::spawn(loop_tracker.track_future(future));
                    } else {
                        actix_rt::spawn(future);
                    }
                }
            });
        });
        if !started {
            return Err("the background runtime did not start".into());
        }
        Ok(Self {
            jobs,
            tracker,
            on_workers: WorkerJobs::new(),
            closing: CancellationToken::new(),
            arbiter: arbiter.handle(),
        })
    }

    /// Runs `job` apart from the caller, and shutdown waits for it: on this thread with `here`
    /// (this thread's clients) while the workers still take jobs, else on the background thread.
    pub fn spawn_tracked(
        &self,
        here: Option<&Rc<Context>>,
        job: impl FnOnce(Rc<Context>) -> LocalBoxFuture<'static, ()> + Send + 'static,
    ) -> bool {
        if let Some(context) = here {
            if let Some(counted) = self.on_workers.admit() {
                let future = job(context.clone());
                actix_rt::spawn(async move {
                    future.await;
                    drop(counted);
                });
                return true;
            }
        }
        self.submit(Box::new(job), true)
    }

    /// `future`, counted as work that shutdown waits for (a timer's `/complete` call).
    pub fn track<F: std::future::Future>(
        &self,
        future: F,
    ) -> impl std::future::Future<Output = F::Output> {
        self.tracker.track_future(future)
    }

    /// True once shutdown has begun: timers should not start new calls.
    pub fn is_closing(&self) -> bool {
        self.closing.is_cancelled()
    }

    /// Sleeps for `wait`; false when shutdown began first.
    pub async fn pause(&self, wait: impl std::future::Future<Output = ()>) -> bool {
        tokio::select! {
            () = wait => true,
            () = self.closing.cancelled() => false,
        }
    }

    /// Runs `job` (a timer) on the background thread; it is abandoned at shutdown.
    pub fn spawn_timer(
        &self,
        job: impl FnOnce(Rc<Context>) -> LocalBoxFuture<'static, ()> + Send + 'static,
    ) -> bool {
        self.submit(Box::new(job), false)
    }

    fn submit(&self, run: JobFn, tracked: bool) -> bool {
        self.jobs.send(Job { run, tracked }).is_ok()
    }

    /// Gives no more jobs to the workers and waits up to `timeout` for those they run; called
    /// before the workers stop, since stopping a worker drops what it runs.
    pub async fn release_workers(&self, timeout: Duration) {
        self.on_workers.close();
        let tracker = &self.on_workers.tracker;
        if tokio::time::timeout(timeout, tracker.wait()).await.is_err() {
            log::warn!(
                "{} /complete calls still running on the workers at the end of their part of the \
                 shutdown timeout: they end when their worker stops",
                tracker.len()
            );
        }
    }

    /// Waits up to `timeout` for the tracked jobs, then stops the thread.
    pub async fn drain(&self, timeout: Duration) {
        self.closing.cancel();
        self.tracker.close();
        if tokio::time::timeout(timeout, self.tracker.wait())
            .await
            .is_err()
        {
            log::warn!(
                "{} /complete calls still running at the end of the shutdown timeout",
                self.tracker.len()
            );
        }
        self.arbiter.stop();
    }
}

impl WorkerJobs {
    fn new() -> Self {
        Self {
            open: Mutex::new(true),
            tracker: TaskTracker::new(),
        }
    }

    /// A count of one more job on a worker, or `None` once shutdown has begun.
    fn admit(&self) -> Option<tokio_util::task::task_tracker::TaskTrackerToken> {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.then(|| self.tracker.token())
    }

    /// Admits no more jobs; the tracker's `wait` then ends once the admitted ones have.
    fn close(&self) {
        *self.open.lock().unwrap_or_else(|e| e.into_inner()) = false;
        self.tracker.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn once_closed_no_job_is_admitted_and_the_wait_ends_with_the_admitted_ones() {
        let jobs = WorkerJobs::new();
        let running = jobs.admit().expect("open: admitted");
        jobs.close();
        assert!(
            jobs.admit().is_none(),
            "closed: sent to the background thread"
        );
        let mut wait = std::pin::pin!(jobs.tracker.wait());
        assert!(
            futures_util::poll!(wait.as_mut()).is_pending(),
            "the admitted job still runs"
        );
        drop(running);
        tokio::time::timeout(Duration::from_secs(5), wait)
            .await
            .expect("the wait ends once the admitted job has");
    }
}
