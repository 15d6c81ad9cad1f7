//! Building an awc client on purpose: connect and handshake timeouts, a pool limit, our TLS
//! config, redirects off, no default header but our `User-Agent` (so no compression either),
//! and, for the SSRF guard, connections only to the address each request carries.

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_tls::connect::{Connector as TcpConnector, Resolve, Resolver};
use awc::http::header;
use futures_util::future::LocalBoxFuture;

/// The TLS handshake bound of the clients whose configuration has no key for it: awc's own
/// default, written out so that no bound is implicit.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// Idle pooled connections are closed after this long (awc's default, written out): receivers
/// are many and mostly idle, so keeping sockets open longer buys little.
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Where a client's connections go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addresses {
    /// The URL's host, resolved by the system: for the peers the operator configured
    /// (Authlete, the user directory, the device webhook).
    Resolve,
    /// Only the address each request carries (`ClientRequest::address`), which the SSRF guard
    /// vetted; a request without one fails instead of resolving the name again.
    VettedOnly,
}

/// Everything a client is built from.
pub struct ClientSettings {
    pub tls: Arc<rustls::ClientConfig>,
    /// Establishing the TCP connection.
    pub connect_timeout: Duration,
    /// The TLS handshake, once connected.
    pub handshake_timeout: Duration,
    /// Connections of this client at once (per worker for the per-worker clients).
    pub max_connections: usize,
    /// How long an idle pooled connection is kept.
    pub keep_alive: Duration,
    pub addresses: Addresses,
}

impl ClientSettings {
    pub fn build(&self) -> awc::Client {
        let resolver = match self.addresses {
            Addresses::Resolve => Resolver::default(),
            Addresses::VettedOnly => Resolver::custom(NoResolution),
        };
        let connector = awc::Connector::new()
            .connector(TcpConnector::new(resolver).service())
            .timeout(self.connect_timeout)
            .handshake_timeout(self.handshake_timeout)
            .limit(self.max_connections)
            .conn_keep_alive(self.keep_alive)
            .rustls_0_23(self.tls.clone());
        awc::Client::builder()
            .connector(connector)
            .no_default_headers()
            .add_default_header((header::USER_AGENT, crate::USER_AGENT))
            // A redirect is never followed: it could carry credentials to another host, and to
            // the outbox it is a permanent failure (SPEC §6).
            .disable_redirects()
            // Every request goes through `outbound::send`, which bounds it, body included, by
            // its deadline: awc's own timers would only repeat that work on every call.
            .disable_timeout()
            .finish()
    }
}

/// The resolver of `Addresses::VettedOnly`: refuses every name.
struct NoResolution;

impl Resolve for NoResolution {
    fn lookup<'a>(
        &'a self,
        _host: &'a str,
        _port: u16,
    ) -> LocalBoxFuture<'a, Result<Vec<SocketAddr>, Box<dyn StdError>>> {
        Box::pin(async { Err("notifications connect only to vetted addresses".into()) })
    }
}
