//! The background runtime: a dedicated thread that runs `/complete` calls and deadline timers,
//! so that no client disconnect, handler timeout or worker shutdown can cancel them.

use std::rc::Rc;
use std::sync::Arc;
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

/// What a background job may use; lives on the background thread.
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
    /// Cancelled when shutdown begins: waits end early, so held work is handed back at once.
    closing: CancellationToken,
    arbiter: actix_rt::ArbiterHandle,
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
            closing: CancellationToken::new(),
            arbiter: arbiter.handle(),
        })
    }

    /// Runs `job` on the background thread; shutdown waits for it.
    pub fn spawn_tracked(
        &self,
        job: impl FnOnce(Rc<Context>) -> LocalBoxFuture<'static, ()> + Send + 'static,
    ) -> bool {
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
