//! The CIBA side path: user identification, its guards (poll timestamps, pending requests,
//! user-code failures — kept by the state backend), and the seam to the authentication device.

pub mod background;
pub mod bridge;
mod claim;
pub mod complete;
pub mod deadline;
pub mod decide;
pub mod decision;
pub mod device;
pub mod dispatch;
pub mod identify;
pub mod lockout;
pub mod longpoll;
pub mod pending;
pub mod poll;
pub mod registry;

pub use crate::authlete::FailReason;
pub use crate::delivery::DeliveryMode;

use std::sync::{Arc, Once};

use crate::clock::SharedClock;
use crate::config::Pattern;
use crate::directory::Directory;
use crate::metrics::Metrics;

/// What the CIBA side path shares across requests and workers; built once by the composition
/// root (`startup`), read by the backchannel, token and decision endpoints.
pub struct Ciba {
    pub directory: Arc<Directory>,
    pub lockout: lockout::UserCodeLockout,
    pub pending: Arc<pending::PendingGuard>,
    pub poll: Arc<poll::PollControl>,
    /// Long polling at the token endpoint (SPEC §14).
    pub long_poll: longpoll::LongPolling,
    pub bridge: Arc<bridge::Bridge>,
    /// `ciba.binding_message_pattern`.
    pub binding_message: Pattern,
    pub clock: SharedClock,
    pub metrics: Metrics,
    /// `server.realm`, for the challenges of Authlete's answers.
    pub realm: String,
    /// The warning about an issued `interval` ≤ 0 is logged once per process.
    pub(crate) interval_warning: Once,
}

/// The `reason` label of `gateway_backchannel_failures_total` for a request refused by the
/// user-code lockout (Authlete hears `ACCESS_DENIED`).
pub const USER_CODE_LOCKED: &str = "USER_CODE_LOCKED";

/// SHA-256 of an `auth_req_id`: the key of per-request soft state, so the id itself is not kept.
pub fn request_key(auth_req_id: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(auth_req_id.as_bytes()).into()
}
