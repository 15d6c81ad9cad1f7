//! Builds the application: shared state, the Authlete target, and both listeners. Tests start
//! the gateway through the same `Application::build` as production, on port 0.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};

use crate::authlete::{AuthleteClient, AuthleteTarget, ServiceCredentials};
use crate::cache::Document;
use crate::clock::SharedClock;
use crate::config::{Backend, Settings};
use crate::directory::DirectoryClient;
use crate::emulator::{self, EmulatorOptions, RunningEmulator};
use crate::endpoints;
use crate::http::middleware::observe;
use crate::metrics::Metrics;
use crate::state::AppState;
use crate::tls;

/// How long a client may take to send its request head before the connection is closed.
const CLIENT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

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
    /// Everything within `server.shutdown_timeout_secs`: in-flight requests, then detached
    /// `/complete` calls, then the notifications they queued. The admin listener keeps serving
    /// meanwhile, so that `/readyz` answers 503 and the console's notification sink still
    /// receives; the emulator stops last, since draining work may still call it.
    pub async fn shutdown(&self) {
        log::info!("shutting down: readiness is now 503");
        let started = Instant::now();
        self.state.set_ready(false);
        let budget = Duration::from_secs(self.state.settings.server.shutdown_timeout_secs);
        let left = || budget.saturating_sub(started.elapsed());
        stop_within(&self.public, left()).await;
        self.state.bridge.background.drain(left()).await;
        self.state.outbox.drain(left()).await;
        stop_within(&self.admin, left().max(FINAL_STOP)).await;
        if let Some(emulator) = &self.emulator {
            stop_within(emulator, left().max(FINAL_STOP)).await;
        }
    }
}

/// The least time the last listeners get to finish a request already in progress.
const FINAL_STOP: Duration = Duration::from_secs(1);

/// Stops a server gracefully, or at once when `within` runs out.
async fn stop_within(server: &ServerHandle, within: Duration) {
    if actix_web::rt::time::timeout(within, server.stop(true))
        .await
        .is_err()
    {
        log::warn!("shutdown budget spent: closing the remaining connections");
        server.stop(false).await;
    }
}

impl Application {
    /// Binds both listeners and builds everything shared; fails with a readable message.
    pub async fn build(settings: Settings, clock: SharedClock) -> Result<Self, String> {
        tls::install_provider();
        let settings = Arc::new(settings);
        let metrics = Metrics::new();
        let (target, emulator) = authlete_target(&settings, clock.clone()).await?;
        let target = Arc::new(target);
        let client_tls = Arc::new(tls::client_config(&[])?);
        let state = web::Data::new(AppState::new(
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

/// What `--check-config` verifies beyond the settings themselves: every PEM file named holds
/// what its key says, and the pieces fit together, so a swapped certificate and key fail the
/// check rather than the start.
pub fn check_files(settings: &Settings) -> Vec<String> {
    tls::install_provider();
    let mut problems = Vec::new();
    if let Some(tls_settings) = &settings.server.tls {
        if let Err(e) = tls::server_config(tls_settings) {
            problems.push(format!(
                "server.tls: {}",
                e.trim_start_matches("server.tls: ")
            ));
        }
    }
    let ca_file = settings.notifications.ca_file.as_deref();
    if let Some(path) = ca_file.filter(|p| !p.is_empty()) {
        let checked = tls::read_certs(path).and_then(|certs| match certs.is_empty() {
            true => Err(format!("{path} holds no certificate")),
            false => tls::client_config(&certs).map(|_| ()),
        });
        if let Err(e) = checked {
            problems.push(format!("notifications.ca_file: {e}"));
        }
    }
    let key_file = settings.emulator.signing_key_file.as_deref();
    if let Some(path) = key_file.filter(|p| !p.trim().is_empty()) {
        if let Err(e) = emulator::check_signing_key(path) {
            problems.push(format!("emulator.signing_key_file: {e}"));
        }
    }
    problems
}

fn bind(address: &SocketAddr, key: &str) -> Result<TcpListener, String> {
    TcpListener::bind(address).map_err(|e| format!("{key} = {address}: {e}"))
}

fn local_addr(listener: &TcpListener) -> Result<SocketAddr, String> {
    listener.local_addr().map_err(|e| e.to_string())
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
        let target = AuthleteTarget::new(&running.base_url, credentials, a, clock)?;
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
    Ok((AuthleteTarget::new(base_url, credentials, a, clock)?, None))
}

fn workers(settings: &Settings) -> usize {
    match settings.server.workers {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}

fn public_server(
    settings: &Settings,
    state: web::Data<AppState>,
    target: Arc<AuthleteTarget>,
    client_tls: Arc<rustls::ClientConfig>,
    listener: TcpListener,
) -> Result<Server, String> {
    let base_path = settings.base_path().to_owned();
    let metrics = state.metrics.clone();
    let shared_settings = state.settings.clone();
    let server = HttpServer::new(move || {
        // awc's Client is !Send: one per worker, built here. Everything else is shared.
        let authlete = AuthleteClient::new(target.clone(), client_tls.clone(), metrics.clone());
        let directory = DirectoryClient::new(&shared_settings, client_tls.clone());
        App::new()
            .app_data(state.clone())
            .app_data(web::Data::new(authlete))
            .app_data(web::Data::new(directory))
            .wrap(from_fn(observe))
            .service(web::scope(&base_path).configure(endpoints::public_routes))
            .default_service(web::to(endpoints::not_found))
    })
    .workers(workers(settings))
    .client_request_timeout(CLIENT_REQUEST_TIMEOUT)
    .shutdown_timeout(settings.server.shutdown_timeout_secs)
    .disable_signals();
    let server = match &settings.server.tls {
        Some(tls_settings) => {
            let config = tls::server_config(tls_settings)?;
            server
                .on_connect(tls::capture_peer_certificates)
                .listen_rustls_0_23(listener, config)
        }
        None => server.listen(listener),
    }
    .map_err(|e| format!("server.listen: {e}"))?;
    Ok(server.run())
}

fn admin_server(
    settings: &Settings,
    state: web::Data<AppState>,
    listener: TcpListener,
) -> Result<Server, String> {
    let console_enabled = settings.admin.console;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .configure(|cfg| endpoints::admin_routes(cfg, console_enabled))
            .default_service(web::to(endpoints::not_found))
    })
    .workers(1)
    .client_request_timeout(CLIENT_REQUEST_TIMEOUT)
    .shutdown_timeout(settings.server.shutdown_timeout_secs)
    .disable_signals()
    .listen(listener)
    .map_err(|e| format!("admin.listen: {e}"))?;
    Ok(server.run())
}
