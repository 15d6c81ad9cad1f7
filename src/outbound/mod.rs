//! Outbound HTTP: how the gateway calls Authlete, the user directory, the device webhook and
//! client notification endpoints.
//!
//! One way to build a configured awc client (`client`), one exchange bounded by a single
//! deadline from connecting to the last body byte (`exchange`), one classification of what went
//! wrong (`Failure`, which says whether trying again is safe) and one `Retry-After` parser
//! (`retry_after`). Each caller maps a failure to its own outcome: Authlete's `UpstreamError`,
//! the directory's `LookupError`, the outbox's attempt results.
//!
//! awc's `Client` is `!Send`: callers build theirs where they are used (one per worker, or on
//! the thread that sends) and never move them.

mod client;
mod exchange;
mod retry_after;

pub use client::{Addresses, ClientSettings, DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_KEEP_ALIVE};
pub use exchange::{send, ConnectFailure, Failure, ReadBody, Reply, StatusClass};
pub use retry_after::retry_after;

/// The request id's header (SPEC §3), read from clients and sent on every outbound call.
pub const X_REQUEST_ID: awc::http::header::HeaderName =
    awc::http::header::HeaderName::from_static("x-request-id");
