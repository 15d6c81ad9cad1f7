//! The `[emulator]` table: the embedded Authlete emulator's service settings and clients.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use serde::Deserialize;

use super::secret::Secret;
use super::values;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransactionFailedError {
    ExpiredToken,
    TransactionFailed,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmulatorSettings {
    /// Listen address of the standalone `emulator` subcommand.
    #[serde(deserialize_with = "values::socket_addr")]
    pub listen: SocketAddr,
    #[serde(
        rename = "auth_req_id_lifetime_secs",
        deserialize_with = "values::secs"
    )]
    pub auth_req_id_lifetime: Duration,
    #[serde(rename = "polling_interval_secs", deserialize_with = "values::secs")]
    pub polling_interval: Duration,
    #[serde(
        rename = "access_token_lifetime_secs",
        deserialize_with = "values::secs"
    )]
    pub access_token_lifetime: Duration,
    #[serde(
        rename = "refresh_token_lifetime_secs",
        deserialize_with = "values::secs"
    )]
    pub refresh_token_lifetime: Duration,
    #[serde(rename = "id_token_lifetime_secs", deserialize_with = "values::secs")]
    pub id_token_lifetime: Duration,
    pub user_code_supported: bool,
    /// The ACR values the service supports (`acr_values_supported`); a backchannel request's
    /// other values are dropped. Empty: every value is kept.
    pub supported_acrs: Vec<String>,
    /// How far a DPoP proof's `iat` may be from now, either way.
    #[serde(rename = "dpop_proof_window_secs", deserialize_with = "values::secs")]
    pub dpop_proof_window: Duration,
    pub transaction_failed_error: TransactionFailedError,
    /// PEM; empty means a key generated once at start.
    pub signing_key_file: Option<String>,
    pub allow_non_loopback: bool,
    pub clients: Vec<EmulatorClient>,
}

impl Default for EmulatorSettings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 8081)),
            auth_req_id_lifetime: Duration::from_secs(600),
            polling_interval: Duration::from_secs(5),
            access_token_lifetime: Duration::from_secs(3600),
            refresh_token_lifetime: Duration::from_secs(86400),
            id_token_lifetime: Duration::from_secs(3600),
            user_code_supported: true,
            supported_acrs: Vec::new(),
            dpop_proof_window: Duration::from_secs(60),
            transaction_failed_error: TransactionFailedError::ExpiredToken,
            signing_key_file: None,
            allow_non_loopback: false,
            clients: Vec::new(),
        }
    }
}

pub use crate::delivery::DeliveryMode;

/// A client registered in the embedded emulator.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmulatorClient {
    pub client_id: String,
    pub client_secret: Option<Secret>,
    #[serde(default)]
    pub client_name: Option<String>,
    pub delivery_mode: DeliveryMode,
    #[serde(default)]
    pub notification_endpoint: Option<String>,
    #[serde(default)]
    pub user_code_required: bool,
    #[serde(default = "EmulatorClient::default_token_auth_method")]
    pub token_auth_method: String,
    #[serde(default = "EmulatorClient::default_grant_types")]
    pub grant_types: Vec<String>,
    /// `backchannel_authentication_request_signing_alg`: the JWS algorithm of the client's
    /// signed backchannel requests (`request`); unset, a `request` is refused.
    #[serde(default)]
    pub request_signing_alg: Option<String>,
    /// The client's JWK Set (JSON text, public keys) that verifies its signed requests.
    #[serde(default)]
    pub jwks: Option<String>,
    /// The client follows FAPI-CIBA: its backchannel requests must be signed with PS256 or
    /// ES256, and a request object may live at most 60 minutes (`exp - nbf`).
    #[serde(default)]
    pub fapi_ciba: bool,
    /// `default_acr_values`: the ACRs a backchannel request without `acr_values` gets.
    #[serde(default)]
    pub default_acrs: Vec<String>,
}

/// The defaults of an `[[emulator.clients]]` entry (`client_id` and `delivery_mode` are required).
impl EmulatorClient {
    fn default_token_auth_method() -> String {
        "client_secret_basic".into()
    }
    fn default_grant_types() -> Vec<String> {
        vec!["ciba".into(), "refresh_token".into()]
    }
}
