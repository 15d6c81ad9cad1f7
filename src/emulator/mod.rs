//! The embedded Authlete emulator: an in-memory implementation of the Authlete Web APIs the
//! gateway calls (v3 `/api/{serviceId}/...` with Bearer, v2 `/api/...` with Basic), served
//! over real HTTP on its own port. The gateway reaches it only through HTTP, and it declares
//! its own wire types, so the two sides cannot silently agree on a misspelt field.
//!
//! For development and tests only: every start logs a warning.

mod ciba;
mod clients;
mod codes;
mod dpop;
mod envelope;
mod faults;
mod jose;
mod keys;
mod metadata;
mod mint;
/// Request parsing; public only for the fuzz targets under `fuzz/`, not an API.
#[doc(hidden)]
pub mod params;
mod resource;
mod routing;
mod scopes;
mod state;
mod store;
mod token;

use std::net::SocketAddr;

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpServer};

pub use faults::{Fault, Faults};

use keys::SigningKey;
use state::Emulator;

/// Largest API request body the emulator reads.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// How to start an emulator.
pub struct EmulatorOptions {
    pub settings: crate::config::EmulatorSettings,
    /// The gateway's `server.public_url` (issuer; endpoint URLs = this + route, e.g. "/token").
    pub public_url: String,
    /// Port 0 picks a free port.
    pub listen: SocketAddr,
    pub clock: crate::clock::SharedClock,
}

/// A started emulator and what a caller needs to reach it.
pub struct RunningEmulator {
    /// `http://IP:PORT`, without a trailing slash.
    pub base_url: String,
    /// The v3 path segment (`/api/{service_id}/...`) and the v2 API key.
    pub service_id: u64,
    /// The v3 `Bearer` token.
    pub access_token: String,
    /// v2 Basic credentials; `api_key` is `service_id` as a string.
    pub api_key: String,
    pub api_secret: String,
    pub faults: Faults,
    handle: ServerHandle,
}

impl RunningEmulator {
    /// The server handle, e.g. to stop it together with the gateway.
    pub fn handle(&self) -> ServerHandle {
        self.handle.clone()
    }

    /// Stops the server (gracefully: in-flight calls finish).
    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }
}

/// Loads the PEM signing key at `path` as `start` would, for `--check-config`.
pub fn check_signing_key(path: &str) -> Result<(), String> {
    SigningKey::from_pem_file(path)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Binds `options.listen`, spawns the server on the current runtime and returns at once.
pub async fn start(options: EmulatorOptions) -> std::io::Result<RunningEmulator> {
    let key_file = options
        .settings
        .signing_key_file
        .clone()
        .filter(|path| !path.trim().is_empty());
    let key = tokio::task::spawn_blocking(move || match key_file {
        Some(path) => SigningKey::from_pem_file(&path),
        None => SigningKey::generated(),
    })
    .await
    .map_err(std::io::Error::other)??;
    let state = web::Data::new(Emulator::new(
        options.settings,
        &options.public_url,
        options.clock,
        key,
    ));
    let app_state = state.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(app_state.clone())
            .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
            .default_service(web::to(routing::handle))
    })
    .workers(1)
    .disable_signals()
    .bind(options.listen)?;
    let address = server
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| std::io::Error::other("the emulator bound no address"))?;
    log::warn!(
        "the embedded Authlete emulator listens on {address}: it is for development and tests \
         only, never for production"
    );
    let server = server.run();
    let handle = server.handle();
    tokio::spawn(server);
    Ok(RunningEmulator {
        base_url: format!("http://{address}"),
        service_id: state.service_id,
        access_token: state.access_token.clone(),
        api_key: state.service_id.to_string(),
        api_secret: state.api_secret.clone(),
        faults: state.faults.clone(),
        handle,
    })
}
