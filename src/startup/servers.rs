//! The two listeners: the public one (every worker with its own Authlete and directory
//! clients, since awc's client is `!Send`) and the admin one.

use std::net::{SocketAddr, TcpListener};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};

use crate::app::AppState;
use crate::authlete::{AuthleteClient, AuthleteTarget};
use crate::ciba::background::Context;
use crate::config::Settings;
use crate::directory::DirectoryClient;
use crate::endpoints;
use crate::endpoints::observe::observe;
use crate::tls;

/// How long a client may take to send its request head before the connection is closed.
const CLIENT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

pub(super) fn bind(address: &SocketAddr, key: &str) -> Result<TcpListener, String> {
    TcpListener::bind(address).map_err(|e| format!("{key} = {address}: {e}"))
}

pub(super) fn local_addr(listener: &TcpListener) -> Result<SocketAddr, String> {
    listener.local_addr().map_err(|e| e.to_string())
}

fn workers(settings: &Settings) -> usize {
    match settings.server.workers {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}

pub(super) fn public_server(
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
        // awc's Client is !Send: one per worker, built here, and shared with the detached
        // jobs the worker runs (a decision's `/complete`). Everything else is shared.
        let authlete = AuthleteClient::new(target.clone(), client_tls.clone(), metrics.clone());
        let directory = DirectoryClient::new(&shared_settings, client_tls.clone());
        let jobs = Rc::new(Context {
            authlete: authlete.clone(),
            directory: directory.clone(),
            tracer: state.tracing.tracer(),
        });
        App::new()
            .app_data(state.clone())
            .app_data(web::Data::new(authlete))
            .app_data(web::Data::new(directory))
            .app_data(web::Data::new(jobs))
            .wrap(from_fn(observe))
            .service(web::scope(&base_path).configure(endpoints::public_routes))
            .default_service(web::to(endpoints::not_found))
    })
    .workers(workers(settings))
    .client_request_timeout(CLIENT_REQUEST_TIMEOUT)
    .shutdown_timeout(super::listener_share(settings.server.shutdown_timeout).as_secs())
    // A client that closes its side of the connection is gone: its request (a parked long
    // poll, SPEC §14) is dropped at once rather than held until it ends on its own.
    .h1_allow_half_closed(!settings.ciba.long_polling)
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

pub(super) fn admin_server(
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
    // Stopped last, when the budget may be spent: a request in progress gets `FINAL_STOP`.
    .shutdown_timeout(super::FINAL_STOP.as_secs())
    .disable_signals()
    .listen(listener)
    .map_err(|e| format!("admin.listen: {e}"))?;
    Ok(server.run())
}
