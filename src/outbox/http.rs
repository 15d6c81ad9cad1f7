//! The outbox's two awc clients (client notifications, device webhook) and one POST attempt.
//!
//! Both clients live on the outbox thread, since awc's `Client` is `!Send`.

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_tls::connect::{Connector as TcpConnector, Resolve, Resolver};
use awc::error::{ConnectError, SendRequestError};
use awc::http::header;
use futures_util::future::LocalBoxFuture;

/// Response bodies are read up to this size (so the connection can be reused) and discarded.
const MAX_RESPONSE_BYTES: usize = 4 * 1024;
/// Idle pooled connections are closed after this long: receivers are many and mostly idle, so
/// keeping sockets open longer buys little.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Both clients: our own User-Agent, no other default header (so no compression), and
/// redirects off (SPEC §6: a redirect is a permanent failure, never followed).
macro_rules! finish {
    ($connector:expr) => {
        awc::Client::builder()
            .connector($connector)
            .no_default_headers()
            .add_default_header((header::USER_AGENT, crate::USER_AGENT))
            .disable_redirects()
            .finish()
    };
}

/// The notification client: never resolves a name itself. Every request carries the address the
/// SSRF guard vetted; a request without one fails instead of resolving again.
pub fn notification_client(
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
    max_connections: usize,
) -> awc::Client {
    let tcp = TcpConnector::new(Resolver::custom(NoResolution)).service();
    let connector = awc::Connector::new()
        .connector(tcp)
        .timeout(timeout)
        .handshake_timeout(timeout)
        .limit(max_connections)
        .conn_keep_alive(KEEP_ALIVE)
        .rustls_0_23(tls);
    finish!(connector)
}

/// The webhook client: the operator's own URL, resolved normally (no SSRF guard, SPEC §5.2).
pub fn webhook_client(
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
    max_connections: usize,
) -> awc::Client {
    let connector = awc::Connector::new()
        .timeout(timeout)
        .handshake_timeout(timeout)
        .limit(max_connections)
        .conn_keep_alive(KEEP_ALIVE)
        .rustls_0_23(tls);
    finish!(connector)
}

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

/// What the receiver answered.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub retry_after: Option<String>,
}

impl Reply {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The last status, for logs.
    pub fn describe(&self) -> String {
        format!("status {}", self.status)
    }
}

/// Sends `request` with `body` and reads at most `MAX_RESPONSE_BYTES` of the answer, all within
/// `timeout` (awc's own timeout stops at the response head). Errors are descriptions for logs
/// that never contain the URL's path or query, headers or body.
pub async fn post(
    request: awc::ClientRequest,
    body: String,
    timeout: Duration,
) -> Result<Reply, String> {
    let exchange = async {
        let mut response = request.send_body(body).await.map_err(classify)?;
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        // The body means nothing to us; a too-long one only costs the connection.
        let _ = response.body().limit(MAX_RESPONSE_BYTES).await;
        Ok(Reply {
            status: response.status().as_u16(),
            retry_after,
        })
    };
    actix_rt::time::timeout(timeout, exchange)
        .await
        .unwrap_or_else(|_| Err("timeout".to_owned()))
}

fn classify(error: SendRequestError) -> String {
    match error {
        SendRequestError::Timeout | SendRequestError::Connect(ConnectError::Timeout) => {
            "timeout".to_owned()
        }
        // I/O errors name the cause (refused, reset, certificate problems) and nothing else.
        SendRequestError::Connect(ConnectError::Io(e)) => format!("connection failed: {e}"),
        SendRequestError::Connect(_) => "connection failed".to_owned(),
        SendRequestError::Send(e) => format!("connection lost while sending: {e}"),
        SendRequestError::Response(_) => "malformed response".to_owned(),
        _ => "transport error".to_owned(),
    }
}
