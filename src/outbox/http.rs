//! The outbox's two awc clients (client notifications, device webhook) and one POST attempt.
//!
//! Both clients live on the outbox thread, since awc's `Client` is `!Send`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::outbound::{self, Addresses, ClientSettings, ConnectFailure, Failure, ReadBody, Reply};

/// Response bodies are read up to this size (so the connection can be reused) and discarded.
const READ: ReadBody = ReadBody::Discard {
    max_bytes: 4 * 1024,
};

/// The notification client: never resolves a name itself. Every request carries the address the
/// SSRF guard vetted; a request without one fails instead of resolving again.
pub fn notification_client(
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
    max_connections: usize,
) -> awc::Client {
    settings(tls, timeout, max_connections, Addresses::VettedOnly).build()
}

/// The webhook client: the operator's own URL, resolved normally (no SSRF guard, SPEC §5.2).
pub fn webhook_client(
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
    max_connections: usize,
) -> awc::Client {
    settings(tls, timeout, max_connections, Addresses::Resolve).build()
}

/// Connecting and the TLS handshake are each bounded by the attempt's timeout; redirects are
/// off (SPEC §6: a redirect is a permanent failure, never followed).
fn settings(
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
    max_connections: usize,
    addresses: Addresses,
) -> ClientSettings {
    ClientSettings {
        tls,
        connect_timeout: timeout,
        handshake_timeout: timeout,
        max_connections,
        keep_alive: outbound::DEFAULT_KEEP_ALIVE,
        addresses,
    }
}

/// The last status, for logs.
pub fn describe(reply: &Reply) -> String {
    format!("status {}", reply.status)
}

/// The `result` label of an attempt's metric (SPEC §8): the answer's status class.
pub fn answered(reply: &Reply) -> &'static str {
    match reply.status {
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        // Statuses beyond 599 are not HTTP; counted with the server errors.
        _ => "5xx",
    }
}

/// An attempt that got no answer: `result` is its label (`timeout`, or `connect_error` for
/// every other way of getting no HTTP answer), `why` its description for logs.
pub struct NoAnswer {
    pub result: &'static str,
    pub why: String,
}

impl NoAnswer {
    pub fn timeout() -> Self {
        Self {
            result: "timeout",
            why: "timeout".to_owned(),
        }
    }

    pub fn connect_error(why: String) -> Self {
        Self {
            result: "connect_error",
            why,
        }
    }
}

/// Sends `request` with `body` and reads at most 4 KiB of the answer, all within `timeout`.
/// Descriptions of failures never contain the URL's path or query, headers or body.
pub async fn post(
    request: awc::ClientRequest,
    body: String,
    timeout: Duration,
) -> Result<Reply, NoAnswer> {
    let deadline = Instant::now() + timeout;
    outbound::send(request, Some(body.into()), READ, deadline)
        .await
        .map_err(|failure| match failure {
            Failure::Timeout | Failure::Connect(ConnectFailure::TimedOut) => NoAnswer::timeout(),
            // I/O errors name the cause (refused, reset, certificate problems) and nothing else.
            Failure::Connect(ConnectFailure::Io(e)) => {
                NoAnswer::connect_error(format!("connection failed: {e}"))
            }
            Failure::Connect(ConnectFailure::Other(_)) => {
                NoAnswer::connect_error("connection failed".to_owned())
            }
            Failure::Send(e) => {
                NoAnswer::connect_error(format!("connection lost while sending: {e}"))
            }
            Failure::Response(_) => NoAnswer::connect_error("malformed response".to_owned()),
            _ => NoAnswer::connect_error("transport error".to_owned()),
        })
}
