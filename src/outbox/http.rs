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
        request_timeout: timeout,
        addresses,
    }
}

/// The last status, for logs.
pub fn describe(reply: &Reply) -> String {
    format!("status {}", reply.status)
}

/// Sends `request` with `body` and reads at most 4 KiB of the answer, all within `timeout`.
/// Errors are descriptions for logs that never contain the URL's path or query, headers or
/// body.
pub async fn post(
    request: awc::ClientRequest,
    body: String,
    timeout: Duration,
) -> Result<Reply, String> {
    let deadline = Instant::now() + timeout;
    outbound::send(request, Some(body.into()), READ, deadline)
        .await
        .map_err(|failure| match failure {
            Failure::Timeout | Failure::Connect(ConnectFailure::TimedOut) => "timeout".to_owned(),
            // I/O errors name the cause (refused, reset, certificate problems) and nothing else.
            Failure::Connect(ConnectFailure::Io(e)) => format!("connection failed: {e}"),
            Failure::Connect(ConnectFailure::Other(_)) => "connection failed".to_owned(),
            Failure::Send(e) => format!("connection lost while sending: {e}"),
            Failure::Response(_) => "malformed response".to_owned(),
            _ => "transport error".to_owned(),
        })
}
