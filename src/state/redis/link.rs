//! The connection to Redis: a `ConnectionManager` made on the backend's own runtime, every
//! operation bounded by `command_timeout_ms`, and a fast failure (one probe a second) while
//! Redis is unreachable, so that no request waits for a server that is not there.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prometheus::Gauge;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, RedisError, RedisResult};
use tokio::runtime::Handle;
use tokio::sync::{oneshot, OnceCell};

use crate::config::RedisSettings;
use crate::state::StateError;

/// How long the backend fails fast after Redis did not answer, before it tries again.
const PROBE_EVERY: Duration = Duration::from_secs(1);

pub(super) struct Link {
    client: Client,
    connect_timeout: Duration,
    command_timeout: Duration,
    connection: OnceCell<ConnectionManager>,
    /// Until when operations fail without trying, after Redis did not answer.
    down_until: Mutex<Option<Instant>>,
    up: Gauge,
    runtime: Handle,
    /// Dropped with the link: the runtime's thread then ends.
    _stop: oneshot::Sender<()>,
}

impl Link {
    /// Starts the runtime thread and the first connection attempts (logged, retried each
    /// second until one succeeds); does not wait for them.
    pub(super) fn start(url: &str, s: &RedisSettings, up: Gauge) -> Result<Arc<Self>, String> {
        // The messages of `Client::open` can repeat the URL, which may hold a password.
        let client = Client::open(url).map_err(|_| "state.redis.url is not a valid Redis URL")?;
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
            client,
            connect_timeout: s.connect_timeout,
            command_timeout: s.command_timeout,
            connection: OnceCell::new(),
            down_until: Mutex::new(None),
            up,
            runtime: handle,
            _stop: stop,
        });
        let weak = Arc::downgrade(&link);
        link.runtime.spawn(async move {
            while let Some(link) = weak.upgrade() {
                match link.connection().await {
                    Ok(_) => {
                        link.up.set(1.0);
                        log::info!("state backend: connected to Redis");
                        return;
                    }
                    Err(e) => log::warn!("state backend: cannot connect to Redis ({e}); retrying"),
                }
                drop(link);
                tokio::time::sleep(PROBE_EVERY).await;
            }
        });
        Ok(link)
    }

    /// Runs `operation` on the backend's runtime, within `command_timeout_ms`.
    pub(super) async fn run<T, F>(
        self: &Arc<Self>,
        operation: impl FnOnce(ConnectionManager) -> F + Send + 'static,
    ) -> Result<T, StateError>
    where
        T: Send + 'static,
        F: Future<Output = RedisResult<T>> + Send,
    {
        if self.is_resting() {
            return Err(StateError::Unavailable(
                "Redis did not answer recently".into(),
            ));
        }
        let link = self.clone();
        let task = self.runtime.spawn(async move {
            let connection = link.connection().await?;
            operation(connection).await
        });
        let abort = task.abort_handle();
        match tokio::time::timeout(self.command_timeout, task).await {
            Err(_) => {
                abort.abort();
                self.rest();
                Err(StateError::Timeout)
            }
            Ok(Err(joined)) => Err(StateError::Unavailable(joined.to_string())),
            Ok(Ok(Err(e))) => {
                if is_unreachable(&e) {
                    self.rest();
                }
                Err(StateError::Unavailable(e.to_string()))
            }
            Ok(Ok(Ok(value))) => Ok(value),
        }
    }

    async fn connection(&self) -> RedisResult<ConnectionManager> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.connect_timeout))
            .set_response_timeout(Some(self.command_timeout))
            // Reconnection after a lost connection: a few quick tries, then the next command
            // tries again. Bounded so that a connection attempt never outlives its caller.
            .set_number_of_retries(2)
            .set_max_delay(PROBE_EVERY);
        self.connection
            .get_or_try_init(|| ConnectionManager::new_with_config(self.client.clone(), config))
            .await
            .cloned()
    }

    fn is_resting(&self) -> bool {
        let mut until = self.down_until.lock().unwrap_or_else(|e| e.into_inner());
        match *until {
            Some(at) if Instant::now() < at => true,
            Some(_) => {
                *until = None;
                false
            }
            None => false,
        }
    }

    fn rest(&self) {
        self.up.set(0.0);
        let mut until = self.down_until.lock().unwrap_or_else(|e| e.into_inner());
        *until = Some(Instant::now() + PROBE_EVERY);
    }
}

/// An error that says Redis cannot be reached, as opposed to one it answered.
fn is_unreachable(e: &RedisError) -> bool {
    e.is_io_error() || e.is_timeout() || e.is_connection_dropped() || e.is_connection_refusal()
}
