//! The Authlete client: paths for API v2 and v3, service credentials, timeouts, and the
//! classification of every failure.

mod action;
pub mod api;
mod client;
pub mod dto;
mod error;
mod fail;
mod target;
mod warnings;

pub use action::Action;
pub use api::Api;
pub use client::{AuthleteClient, RawResponse, MAX_RETRY_AFTER_SECS};
pub use error::{AuthleteFailure, UpstreamError, FAILURE_ACTIONS};
pub use fail::FailReason;
pub use target::{AuthleteTarget, Documents, ServiceCredentials};
pub use warnings::WarningLog;
