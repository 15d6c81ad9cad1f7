//! authlete-gateway: an OpenID CIBA authorization server in front of Authlete.
//!
//! The data path: request in (`http`) → client credentials → Authlete call (`authlete`) →
//! action (`actions`) → response. Beside it, the CIBA side path (`ciba`): user directory
//! (`directory`) → device → complete → notification (`outbox`). Every outbound HTTP call goes
//! through `outbound`; every error answer the gateway writes itself comes from the table in
//! `error`.

pub mod actions;
pub mod app;
pub mod authlete;
pub mod backoff;
pub mod cache;
pub mod ciba;
pub mod claims;
pub mod clock;
pub mod config;
pub mod delivery;
pub mod directory;
pub mod emulator;
pub mod endpoints;
pub mod error;
pub mod http;
pub mod metrics;
pub mod outbound;
pub mod outbox;
pub mod sink;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod tls;

/// The `User-Agent` of every outgoing request.
pub const USER_AGENT: &str = concat!("authlete-gateway/", env!("CARGO_PKG_VERSION"));
