//! The connection to Redis: a `ConnectionManager` to one server, or a `ClusterConnection` to a
//! Redis Cluster (`connection`), made on the backend's own runtime, every operation bounded by
//! `command_timeout_ms`, and a fast failure while Redis is unreachable, so that no request waits
//! for a server that is not there (SPEC §12).
//!
//! The link owns `gateway_state_backend_up`. It is up while it holds a connection; a timeout,
//! or an error saying Redis cannot be reached, takes it down: the connection is dropped (a
//! `ConnectionManager` does not reconnect after a response timeout, a half-open connection
//! would fail every command until the kernel gives up, and a cluster connection whose home node
//! stopped answering is no better) and one prober, on the link's runtime, builds a fresh
//! connection about once a second, with jitter, until one answers (`PING`; on a cluster, a read
//! of the hash tag's slot). Until then every operation fails at once, without trying. An error
//! Redis answered (a script error, OOM) says Redis is there: it leaves the link up; a cluster
//! error that outlasted the cluster connection's retries (`CLUSTERDOWN`, a slot without a
//! master) does not.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use prometheus::Gauge;
use rand::Rng;
use redis::{ErrorKind, RedisError, RedisResult};
use tokio::runtime::Handle;
use tokio::sync::{oneshot, watch};

use super::connection::{Connection, Connector};
use super::eviction;
use crate::config::RedisSettings;
use crate::state::StateError;

/// How often the prober tries to reconnect while Redis is down (± a quarter, so that a fleet
/// does not knock in step).
const PROBE_EVERY: Duration = Duration::from_secs(1);

pub(super) struct Link {
    connector: Connector,
    /// Bounds one probe: connecting (on a cluster, to the seeds and then to the nodes they
    /// name), then the check.
    probe_budget: Duration,
    command_timeout: Duration,
    shared: Mutex<Shared>,
    /// True once the first connection attempt has ended, either way: until then operations
    /// wait for it (within their timeout) rather than fail on a gateway just started.
    first_attempt: watch::Sender<bool>,
    up: Gauge,
    runtime: Handle,
    /// Dropped with the link: the runtime's thread then ends.
    _stop: oneshot::Sender<()>,
}

struct Shared {
    /// The connection operations use, with its generation; `None` while the link is down.
    connection: Option<(u64, Connection)>,
    generations: u64,
    /// Whether the prober runs: there is never more than one.
    probing: bool,
    /// When the link went down, for the log line saying it is back; `None` before the first
    /// connection.
    down_since: Option<Instant>,
}

impl Link {
    /// Starts the runtime thread and the prober (it logs each failed attempt and tries again
    /// about once a second until one succeeds); does not wait for it. `hash_tag` is
    /// `{<key_prefix>}`, whose slot holds every key on a cluster.
    pub(super) fn start(s: &RedisSettings, hash_tag: &str, up: Gauge) -> Result<Arc<Self>, String> {
        let connector = Connector::new(s, hash_tag)?;
        let probe_budget = s.connect_timeout * connector.connect_rounds() + s.command_timeout;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("state backend runtime: {e}"))?;
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = runtime.handle().clone();
        std::thread::Builder::new()
            .name("state-redis".into())
            .spawn(move || runtime.block_on(async move { stopped.await.unwrap_or_default() }))
            .map_err(|e| format!("state backend thread: {e}"))?;
        up.set(0.0);
        let link = Arc::new(Self {
            connector,
            probe_budget,
            command_timeout: s.command_timeout,
            shared: Mutex::new(Shared {
                connection: None,
                generations: 0,
                probing: false,
                down_since: None,
            }),
            first_attempt: watch::Sender::new(false),
            up,
            runtime: handle,
            _stop: stop,
        });
        link.start_prober(Duration::ZERO);
        Ok(link)
    }

    /// Runs `operation` on the backend's runtime, within `command_timeout_ms`; fails at once
    /// while the link is down.
    pub(super) async fn run<T, F>(
        self: &Arc<Self>,
        operation: impl FnOnce(Connection) -> F + Send + 'static,
    ) -> Result<T, StateError>
    where
        T: Send + 'static,
        F: Future<Output = RedisResult<T>> + Send,
    {
        let started = Instant::now();
        let mut first_attempt = self.first_attempt.subscribe();
        // Only an operation given its whole timeout may declare the connection dead.
        let whole_timeout = *first_attempt.borrow();
        let waited = first_attempt.wait_for(|done| *done);
        if tokio::time::timeout(self.command_timeout, waited)
            .await
            .is_err()
        {
            return Err(StateError::Timeout);
        }
        let Some((generation, connection)) = self.lock().connection.clone() else {
            return Err(StateError::Unavailable(
                "Redis is unreachable; reconnecting".into(),
            ));
        };
        let left = self.command_timeout.saturating_sub(started.elapsed());
        let task = self
            .runtime
            .spawn(async move { operation(connection).await });
        let abort = task.abort_handle();
        match tokio::time::timeout(left, task).await {
            Err(_) => {
                abort.abort();
                if whole_timeout {
                    self.lost(generation, "no answer within the command timeout");
                }
                Err(StateError::Timeout)
            }
            Ok(Err(joined)) => Err(StateError::Unavailable(joined.to_string())),
            Ok(Ok(Err(e))) => {
                // A cluster error left after the cluster connection's retries (the slot has
                // no master, the cluster is down) is an outage too.
                if is_unreachable(&e) || e.is_cluster_error() {
                    self.lost(generation, &e.to_string());
                }
                // The connection's own response timeout may fire first.
                if e.is_timeout() {
                    return Err(StateError::Timeout);
                }
                Err(StateError::Unavailable(e.to_string()))
            }
            Ok(Ok(Ok(value))) => Ok(value),
        }
    }

    /// Runs `task` on the backend's runtime, for as long as the link lives.
    pub(super) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.runtime.spawn(task);
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The connection of `generation` failed: drop it and start probing, unless another
    /// operation already did (or a newer connection replaced it).
    fn lost(self: &Arc<Self>, generation: u64, why: &str) {
        {
            let mut shared = self.lock();
            if shared.connection.as_ref().map(|(g, _)| *g) != Some(generation) {
                return;
            }
            shared.connection = None;
            shared.down_since = Some(Instant::now());
        }
        self.up.set(0.0);
        log::warn!("state backend: Redis connection lost ({why}); failing fast, reconnecting");
        self.start_prober(jittered(PROBE_EVERY));
    }

    /// Starts the prober after `delay`, unless it runs already. It holds the link only weakly,
    /// so a dropped backend stops it.
    fn start_prober(self: &Arc<Self>, delay: Duration) {
        {
            let mut shared = self.lock();
            if shared.probing {
                return;
            }
            shared.probing = true;
        }
        let weak = Arc::downgrade(self);
        self.runtime.spawn(async move {
            tokio::time::sleep(delay).await;
            while let Some(link) = weak.upgrade() {
                let probed = link.probe().await;
                if let Ok(connection) = &probed {
                    link.install(connection.clone());
                }
                link.first_attempt.send_replace(true);
                match probed {
                    Ok(mut connection) => {
                        eviction::check(&mut connection, link.command_timeout).await;
                        return;
                    }
                    Err(e) if link.lock().down_since.is_none() => {
                        log::warn!("state backend: cannot connect to Redis ({e}); retrying");
                    }
                    Err(e) => log::debug!("state backend: Redis still unreachable ({e})"),
                }
                drop(link);
                tokio::time::sleep(jittered(PROBE_EVERY)).await;
            }
        });
    }

    /// A fresh connection that answered (`Connector::check`), within the probe budget.
    async fn probe(&self) -> Result<Connection, String> {
        let attempt = async {
            let mut c = self.connector.connect().await?;
            match self.connector.check(&mut c).await {
                // An ACL without `+ping` answers NOPERM: Redis is there all the same.
                Err(e) if is_unreachable(&e) || e.is_cluster_error() => Err(e),
                _ => Ok(c),
            }
        };
        match tokio::time::timeout(self.probe_budget, attempt).await {
            Ok(Ok(connection)) => Ok(connection),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("no answer within the connect and command timeouts".into()),
        }
    }

    fn install(&self, connection: Connection) {
        let down_since = {
            let mut shared = self.lock();
            shared.generations += 1;
            shared.connection = Some((shared.generations, connection));
            shared.probing = false;
            shared.down_since.take()
        };
        self.up.set(1.0);
        match down_since {
            None => log::info!("state backend: connected to Redis"),
            Some(at) => log::info!(
                "state backend: reconnected to Redis after {:.1} s",
                at.elapsed().as_secs_f64()
            ),
        }
    }
}

/// `every` ± a quarter.
fn jittered(every: Duration) -> Duration {
    every.mul_f64(rand::thread_rng().gen_range(0.75..1.25))
}

/// An error that says Redis cannot be reached, as opposed to one it answered.
fn is_unreachable(e: &RedisError) -> bool {
    e.is_io_error()
        || e.is_timeout()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.kind() == ErrorKind::ClusterConnectionNotFound
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_are_about_a_second_apart_and_never_in_step() {
        let delays: Vec<Duration> = (0..100).map(|_| jittered(PROBE_EVERY)).collect();
        assert!(delays
            .iter()
            .all(|d| (Duration::from_millis(750)..Duration::from_millis(1250)).contains(d)));
        assert!(delays.iter().any(|d| *d != delays[0]));
    }
}
