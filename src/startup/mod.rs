//! The composition root: builds the application — the Authlete target (or the embedded
//! emulator), the shared state (`wiring`), both listeners (`servers`) — and stops it. Tests
//! start the gateway through the same `Application::build` as production, on port 0.

mod check;
mod known_series;
mod servers;
mod wiring;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::dev::{Server, ServerHandle};
use actix_web::web;

pub use check::check_files;
pub use known_series::metrics;
use servers::{admin_server, bind, local_addr, public_server};

use crate::actions::documented;
use crate::app::AppState;
use crate::authlete::{AuthleteClient, AuthleteTarget, ServiceCredentials};
use crate::cache::Document;
use crate::clock::SharedClock;
use crate::config::{Backend, Settings};
use crate::emulator::{self, EmulatorOptions, RunningEmulator};
use crate::tls;

/// A built gateway whose listeners are bound but not yet serving.
pub struct Application {
    public_addr: SocketAddr,
    admin_addr: SocketAddr,
    public: Server,
    admin: Server,
    state: web::Data<AppState>,
    emulator: Option<RunningEmulator>,
    target: Arc<AuthleteTarget>,
    client_tls: Arc<rustls::ClientConfig>,
}

/// Stops a running application gracefully: readiness turns 503, then both listeners drain.
#[derive(Clone)]
pub struct ShutdownHandle {
    state: web::Data<AppState>,
    public: ServerHandle,
    admin: ServerHandle,
    emulator: Option<ServerHandle>,
}

impl ShutdownHandle {
    /// Everything within `server.shutdown_timeout_secs`: the `/complete` calls running on the
    /// public listener's workers finish within the first part of it (decisions arriving
    /// meanwhile run on the background thread, and the listener serves as before), then the
    /// listener stops accepting and its in-flight requests finish within the rest
    /// (`listener_share`), then the background thread's `/complete` calls, then the
    /// notifications they queued. The admin listener keeps serving meanwhile, so that
    /// `/readyz` answers 503 and the console's notification sink still receives; the emulator
    /// stops last, since draining work may still call it.
    pub async fn shutdown(&self) {
        log::info!("shutting down: readiness is now 503");
        let started = Instant::now();
        self.state.set_ready(false);
        // Parked long polls are answered now (SPEC §14), so the public listener drains at once.
        self.state.ciba.long_poll.close();
        let budget = self.state.settings.server.shutdown_timeout;
        let left = || budget.saturating_sub(started.elapsed());
        let background = &self.state.ciba.bridge.background;
        // The listener's workers wait for their connections at most `listener_share`, counted
        // from the stop: what runs on them first gets the rest of the budget.
        background
            .release_workers(left().saturating_sub(listener_share(budget)))
            .await;
        stop_within(&self.public, left()).await;
        background.drain(left()).await;
        self.state.ciba.bridge.hand_back().await;
        self.state.outbox.drain(left()).await;
        // The last batch of spans goes out before the process ends (SPEC §13).
        let tracing = self.state.tracing.clone();
        let flush = left().max(FINAL_STOP);
        let _ = tokio::task::spawn_blocking(move || tracing.shutdown(flush)).await;
        stop_within(&self.admin, left().max(FINAL_STOP)).await;
        if let Some(emulator) = &self.emulator {
            stop_within(emulator, left().max(FINAL_STOP)).await;
        }
    }
}

/// The least time the last listeners get to finish a request already in progress.
const FINAL_STOP: Duration = Duration::from_secs(1);

/// The part of the shutdown budget in which the public listener's workers finish their
/// in-flight requests once it stops (their graceful timeout, whole seconds): half, rounded
/// up. The decisions' `/complete` calls running on those workers get the other half first.
pub(super) fn listener_share(budget: Duration) -> Duration {
    Duration::from_secs(budget.as_secs().div_ceil(2))
}

/// Stops a server: at once when nothing is left of `within`, else gracefully. A graceful stop
/// is bounded by the server's own shutdown timeout (`listener_share` for the public listener,
/// `FINAL_STOP` for the admin one), after which its workers close what remains: actix-server
/// acts on the first stop command only, so a forced stop sent later could not cut it short.
async fn stop_within(server: &ServerHandle, within: Duration) {
    if within.is_zero() {
        server.stop(false).await;
        return;
    }
    let stopping = server.stop(true);
    futures_util::pin_mut!(stopping);
    if actix_web::rt::time::timeout(within, &mut stopping)
        .await
        .is_err()
    {
        log::warn!("shutdown budget spent: the listener's workers close what remains");
        stopping.await;
    }
}

impl Application {
    /// Binds both listeners and builds everything shared; fails with a readable message.
    pub async fn build(settings: Settings, clock: SharedClock) -> Result<Self, String> {
        tls::install_provider();
        let settings = Arc::new(settings);
        let metrics = metrics(&settings);
        let (target, emulator) = authlete_target(&settings, clock.clone()).await?;
        let target = Arc::new(target);
        let client_tls = Arc::new(tls::client_config(&[])?);
        let state = web::Data::new(wiring::app_state(
            settings.clone(),
            metrics.clone(),
            clock,
            target.clone(),
            client_tls.clone(),
        )?);
        let public_listener = bind(&settings.server.listen, "server.listen")?;
        let admin_listener = bind(&settings.admin.listen, "admin.listen")?;
        let public_addr = local_addr(&public_listener)?;
        let admin_addr = local_addr(&admin_listener)?;
        let public = public_server(
            &settings,
            state.clone(),
            target.clone(),
            client_tls.clone(),
            public_listener,
        )?;
        let admin = admin_server(&settings, state.clone(), admin_listener)?;
        Ok(Self {
            public_addr,
            admin_addr,
            public,
            admin,
            state,
            emulator,
            target,
            client_tls,
        })
    }

    pub fn public_addr(&self) -> SocketAddr {
        self.public_addr
    }

    pub fn admin_addr(&self) -> SocketAddr {
        self.admin_addr
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            state: self.state.clone(),
            public: self.public.handle(),
            admin: self.admin.handle(),
            emulator: self.emulator.as_ref().map(RunningEmulator::handle),
        }
    }

    /// The embedded emulator, when `authlete.backend = "embedded"`.
    pub fn emulator(&self) -> Option<&RunningEmulator> {
        self.emulator.as_ref()
    }

    /// Serves until both listeners have stopped (see `ShutdownHandle`).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.state.set_ready(true);
        actix_web::rt::spawn(check_metadata(
            self.state.clone(),
            AuthleteClient::new(self.target, self.client_tls, self.state.metrics.clone()),
        ));
        let (public, admin) = futures_util::future::join(self.public, self.admin).await;
        public.and(admin)
    }
}

/// Fetches discovery once at start, which compares it with `server.public_url` (SPEC §3.3)
/// and warms the cache. In the background: readiness does not depend on Authlete.
async fn check_metadata(state: web::Data<AppState>, authlete: AuthleteClient) {
    if let Err(e) = state
        .metadata
        .get(Document::Discovery, &authlete, "startup")
        .await
    {
        log::warn!("discovery could not be checked at start ({e}); it will be on first use");
    }
}

/// Where Authlete is: the configured service, or an emulator started here on loopback.
async fn authlete_target(
    settings: &Settings,
    clock: SharedClock,
) -> Result<(AuthleteTarget, Option<RunningEmulator>), String> {
    let a = &settings.authlete;
    if a.backend == Backend::Embedded {
        let running = emulator::start(EmulatorOptions {
            settings: settings.emulator.clone(),
            public_url: settings.public_base().to_owned(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            clock: clock.clone(),
        })
        .await
        .map_err(|e| format!("starting the embedded emulator: {e}"))?;
        let credentials = match a.api_version {
            2 => ServiceCredentials::V2 {
                api_key: running.api_key.clone(),
                api_secret: running.api_secret.clone(),
            },
            _ => ServiceCredentials::V3 {
                service_id: running.service_id.to_string(),
                access_token: running.access_token.clone(),
            },
        };
        let target = AuthleteTarget::new(&running.base_url, credentials, a, clock, documented)?;
        return Ok((target, Some(running)));
    }
    let base_url = a
        .base_url
        .as_ref()
        .map(url::Url::as_str)
        .ok_or("authlete.base_url is required")?;
    let expose = |s: &Option<crate::config::Secret>| s.as_ref().map(|v| v.expose().to_owned());
    let credentials = match a.api_version {
        2 => ServiceCredentials::V2 {
            api_key: expose(&a.api_key).ok_or("authlete.api_key is required")?,
            api_secret: expose(&a.api_secret).ok_or("authlete.api_secret is required")?,
        },
        _ => ServiceCredentials::V3 {
            service_id: expose(&a.service_id).ok_or("authlete.service_id is required")?,
            access_token: expose(&a.access_token).ok_or("authlete.access_token is required")?,
        },
    };
    Ok((
        AuthleteTarget::new(base_url, credentials, a, clock, documented)?,
        None,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listener_gets_half_the_budget_rounded_up_and_never_more() {
        for (budget, share) in [(20, 10), (21, 11), (1, 1), (0, 0)] {
            let budget = Duration::from_secs(budget);
            assert_eq!(listener_share(budget), Duration::from_secs(share));
            assert!(listener_share(budget) <= budget);
        }
    }
}
