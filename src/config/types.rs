//! Typed settings: one struct per `config.toml` table, every key with its default.
//!
//! Every struct rejects unknown keys, so a misspelt key is reported instead of ignored.
//!
//! Each table states its defaults in one place. A table without required keys has a `Default`
//! impl, used for every missing key. A table with one (`[authlete]`'s `backend`, a webhook's
//! `url`) cannot have a `Default` without inventing that value, and serde has no way to exempt one
//! key from a table-wide default, so its defaults are the functions of one `impl` block beside
//! it; keys whose default is unset, `false` or empty simply say `#[serde(default)]`.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use ipnet::IpNet;
use serde::Deserialize;
use url::Url;

use super::emulator::EmulatorSettings;
use super::secret::{Secret, SecretList};
use super::values::{self, CertHeader, Pattern};

/// The whole configuration, as read from `config.toml` plus the `GATEWAY_` environment overlay.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default)]
    pub server: ServerSettings,
    #[serde(default)]
    pub admin: AdminSettings,
    pub authlete: AuthleteSettings,
    #[serde(default)]
    pub cache: CacheSettings,
    #[serde(default)]
    pub users: UsersSettings,
    #[serde(default)]
    pub ciba: CibaSettings,
    #[serde(default)]
    pub device: DeviceSettings,
    #[serde(default)]
    pub notifications: NotificationSettings,
    #[serde(default)]
    pub introspection: IntrospectionSettings,
    #[serde(default)]
    pub emulator: EmulatorSettings,
    #[serde(default)]
    pub log: LogSettings,
    #[serde(default)]
    pub state: StateSettings,
    #[serde(default)]
    pub telemetry: TelemetrySettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    #[serde(deserialize_with = "values::socket_addr")]
    pub listen: SocketAddr,
    /// See `Settings::public_base` for the form the gateway writes out.
    #[serde(deserialize_with = "values::http_url")]
    pub public_url: Url,
    /// Defaults to `public_url`.
    pub realm: Option<String>,
    /// 0 means one worker per CPU.
    pub workers: usize,
    pub max_body_bytes: usize,
    #[serde(rename = "shutdown_timeout_secs", deserialize_with = "values::secs")]
    pub shutdown_timeout: Duration,
    #[serde(deserialize_with = "values::networks")]
    pub trusted_proxies: Vec<IpNet>,
    #[serde(deserialize_with = "values::opt_cert_header")]
    pub client_cert_header: Option<CertHeader>,
    pub cors_allowed_origins: Vec<String>,
    pub tls: Option<TlsSettings>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 8080)),
            public_url: constant_url("http://127.0.0.1:8080"),
            realm: None,
            workers: 0,
            max_body_bytes: 65536,
            shutdown_timeout: Duration::from_secs(20),
            trusted_proxies: Vec::new(),
            client_cert_header: None,
            cors_allowed_origins: Vec::new(),
            tls: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    pub cert_file: String,
    pub key_file: String,
    #[serde(default)]
    pub client_ca_file: Option<String>,
    #[serde(default)]
    pub fapi: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminSettings {
    #[serde(deserialize_with = "values::socket_addr")]
    pub listen: SocketAddr,
    pub console: bool,
    pub console_token: Option<Secret>,
    pub allowed_hosts: Vec<String>,
}

impl Default for AdminSettings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 9464)),
            console: false,
            console_token: None,
            allowed_hosts: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Embedded,
    Remote,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthleteSettings {
    pub backend: Backend,
    #[serde(default, deserialize_with = "values::opt_http_url")]
    pub base_url: Option<Url>,
    #[serde(default = "AuthleteSettings::default_api_version")]
    pub api_version: u8,
    /// The numeric service id; a TOML string or integer.
    #[serde(default)]
    pub service_id: Option<Secret>,
    #[serde(default)]
    pub access_token: Option<Secret>,
    #[serde(default)]
    pub api_key: Option<Secret>,
    #[serde(default)]
    pub api_secret: Option<Secret>,
    #[serde(rename = "connect_timeout_ms", deserialize_with = "values::millis")]
    #[serde(default = "AuthleteSettings::default_connect_timeout")]
    pub connect_timeout: Duration,
    #[serde(rename = "request_timeout_ms", deserialize_with = "values::millis")]
    #[serde(default = "AuthleteSettings::default_request_timeout")]
    pub request_timeout: Duration,
    #[serde(rename = "token_timeout_ms", deserialize_with = "values::millis")]
    #[serde(default = "AuthleteSettings::default_token_timeout")]
    pub token_timeout: Duration,
    #[serde(rename = "complete_timeout_ms", deserialize_with = "values::millis")]
    #[serde(default = "AuthleteSettings::default_complete_timeout")]
    pub complete_timeout: Duration,
    #[serde(rename = "retry_after_secs", deserialize_with = "values::secs")]
    #[serde(default = "AuthleteSettings::default_retry_after")]
    pub retry_after: Duration,
    #[serde(default = "AuthleteSettings::default_max_connections")]
    pub max_connections: usize,
    /// The largest answer read from Authlete; a longer one fails the call (500).
    #[serde(default = "AuthleteSettings::default_max_response_bytes")]
    pub max_response_bytes: usize,
}

/// `[authlete]`'s defaults (`backend` is required; the location and credentials are unset).
impl AuthleteSettings {
    fn default_api_version() -> u8 {
        3
    }
    fn default_connect_timeout() -> Duration {
        Duration::from_millis(2000)
    }
    fn default_request_timeout() -> Duration {
        Duration::from_millis(5000)
    }
    fn default_token_timeout() -> Duration {
        Duration::from_millis(10000)
    }
    fn default_complete_timeout() -> Duration {
        Duration::from_millis(30000)
    }
    fn default_retry_after() -> Duration {
        Duration::from_secs(2)
    }
    fn default_max_connections() -> usize {
        64
    }
    fn default_max_response_bytes() -> usize {
        1024 * 1024
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheSettings {
    #[serde(rename = "metadata_ttl_secs", deserialize_with = "values::secs")]
    pub metadata_ttl: Duration,
    #[serde(rename = "jwks_ttl_secs", deserialize_with = "values::secs")]
    pub jwks_ttl: Duration,
    #[serde(rename = "stale_if_error_secs", deserialize_with = "values::secs")]
    pub stale_if_error: Duration,
    pub poll_max_entries: u64,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            metadata_ttl: Duration::from_secs(300),
            jwks_ttl: Duration::from_secs(60),
            stale_if_error: Duration::from_secs(3600),
            poll_max_entries: 100_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserSource {
    Static,
    Http,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UsersSettings {
    pub source: UserSource,
    #[serde(rename = "static")]
    pub static_users: Vec<StaticUser>,
    pub http: Option<HttpDirectorySettings>,
}

impl Default for UsersSettings {
    fn default() -> Self {
        Self {
            source: UserSource::Static,
            static_users: Vec::new(),
            http: None,
        }
    }
}

/// One user of the static directory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticUser {
    pub subject: String,
    #[serde(default)]
    pub login_hints: Vec<String>,
    #[serde(default)]
    pub user_code: Option<Secret>,
    /// Lowercase hex SHA-256 of the user code.
    #[serde(default)]
    pub user_code_sha256: Option<Secret>,
    #[serde(default)]
    pub user_code_required: bool,
    #[serde(default)]
    pub claims: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpDirectorySettings {
    #[serde(deserialize_with = "values::http_url")]
    pub url: Url,
    #[serde(default)]
    pub bearer_token: Option<Secret>,
    #[serde(rename = "timeout_ms", deserialize_with = "values::millis")]
    #[serde(default = "HttpDirectorySettings::default_timeout")]
    pub timeout: Duration,
    #[serde(default)]
    pub allow_insecure_http: bool,
}

/// `[users.http]`'s defaults (`url` is required).
impl HttpDirectorySettings {
    fn default_timeout() -> Duration {
        Duration::from_millis(2000)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CibaSettings {
    pub enforce_interval: bool,
    #[serde(rename = "poll_leeway_ms", deserialize_with = "values::millis")]
    pub poll_leeway: Duration,
    #[serde(rename = "default_interval_secs", deserialize_with = "values::secs")]
    pub default_interval: Duration,
    #[serde(
        rename = "max_request_lifetime_secs",
        deserialize_with = "values::secs"
    )]
    pub max_request_lifetime: Duration,
    #[serde(deserialize_with = "values::pattern")]
    pub binding_message_pattern: Pattern,
    pub max_pending_per_user: usize,
    pub user_code_max_failures: usize,
    #[serde(
        rename = "user_code_failure_window_secs",
        deserialize_with = "values::secs"
    )]
    pub user_code_failure_window: Duration,
    /// CIBA Core §10.1 long polling at the token endpoint (SPEC §14).
    pub long_polling: bool,
    #[serde(rename = "long_poll_timeout_secs", deserialize_with = "values::secs")]
    pub long_poll_timeout: Duration,
    pub max_parked_polls: usize,
}

/// The longest `ciba.long_poll_timeout_secs` (SPEC §14).
pub const MAX_LONG_POLL_TIMEOUT: Duration = Duration::from_secs(60);

pub const DEFAULT_BINDING_MESSAGE_PATTERN: &str = r"^[\p{L}\p{N} ._+/!?#-]{1,20}$";

fn default_binding_message_pattern() -> Pattern {
    match regex::Regex::new(DEFAULT_BINDING_MESSAGE_PATTERN) {
        Ok(regex) => Pattern(regex),
        Err(_) => unreachable!("the default binding message pattern compiles (tested)"),
    }
}

fn constant_url(text: &str) -> Url {
    match Url::parse(text) {
        Ok(url) => url,
        Err(_) => unreachable!("a default URL parses (tested)"),
    }
}

impl Default for CibaSettings {
    fn default() -> Self {
        Self {
            enforce_interval: true,
            poll_leeway: Duration::from_millis(500),
            default_interval: Duration::from_secs(5),
            max_request_lifetime: Duration::from_secs(3600),
            binding_message_pattern: default_binding_message_pattern(),
            max_pending_per_user: 5,
            user_code_max_failures: 5,
            user_code_failure_window: Duration::from_secs(900),
            long_polling: false,
            long_poll_timeout: Duration::from_secs(30),
            max_parked_polls: 10_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChannel {
    Console,
    Webhook,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeviceSettings {
    pub channel: DeviceChannel,
    pub decision_keys: SecretList,
    pub timeout_ratio: f64,
    pub webhook: Option<WebhookSettings>,
}

impl Default for DeviceSettings {
    fn default() -> Self {
        Self {
            channel: DeviceChannel::Console,
            decision_keys: SecretList::default(),
            timeout_ratio: 0.8,
            webhook: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    #[serde(deserialize_with = "values::http_url")]
    pub url: Url,
    #[serde(default)]
    pub secrets: SecretList,
    #[serde(rename = "timeout_ms", deserialize_with = "values::millis")]
    #[serde(default = "WebhookSettings::default_timeout")]
    pub timeout: Duration,
    #[serde(default)]
    pub allow_insecure_http: bool,
}

/// `[device.webhook]`'s defaults (`url` is required; `secrets` are checked by validation).
impl WebhookSettings {
    fn default_timeout() -> Duration {
        Duration::from_millis(2500)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotificationSettings {
    #[serde(rename = "timeout_ms", deserialize_with = "values::millis")]
    pub timeout: Duration,
    #[serde(rename = "max_backoff_ms", deserialize_with = "values::millis")]
    pub max_backoff: Duration,
    pub queue_capacity: usize,
    pub max_in_flight: usize,
    pub max_in_flight_per_host: usize,
    #[serde(deserialize_with = "values::networks")]
    pub allowed_networks: Vec<IpNet>,
    pub allow_private_networks: bool,
    pub allow_insecure_http: bool,
    pub ca_file: Option<String>,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_millis(2500),
            max_backoff: Duration::from_millis(30000),
            queue_capacity: 10000,
            max_in_flight: 256,
            max_in_flight_per_host: 16,
            allowed_networks: Vec::new(),
            allow_private_networks: false,
            allow_insecure_http: false,
            ca_file: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct IntrospectionSettings {
    pub clients: Vec<IntrospectionClient>,
}

/// A resource server allowed to call `/introspection`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntrospectionClient {
    pub id: String,
    #[serde(default)]
    pub secret: Option<Secret>,
    /// Lowercase hex SHA-256 of the secret.
    #[serde(default)]
    pub secret_sha256: Option<Secret>,
    /// The resource server's absolute URI, sent as Authlete's `rsUri`: without it Authlete
    /// cannot address a JWT introspection answer (RFC 9701) and answers with JSON.
    #[serde(default)]
    pub rs_uri: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    pub level: String,
    pub format: LogFormat,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: LogFormat::Text,
        }
    }
}

/// `[telemetry]`: span export over OTLP/HTTP (SPEC §13). Trace context is continued,
/// propagated and logged whether or not an endpoint is set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetrySettings {
    /// The collector's base URL (`/v1/traces` is appended); unset: no spans are recorded.
    #[serde(deserialize_with = "values::empty_or_http_url")]
    pub otlp_endpoint: Option<Url>,
    pub service_name: String,
    /// The share of new traces recorded; an incoming `traceparent`'s sampled flag wins.
    pub sample_ratio: f64,
    #[serde(rename = "otlp_timeout_ms", deserialize_with = "values::millis")]
    pub otlp_timeout: Duration,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        Self {
            otlp_endpoint: None,
            service_name: "authlete-gateway".into(),
            sample_ratio: 1.0,
            otlp_timeout: Duration::from_millis(3000),
        }
    }
}

/// Where the gateway keeps its own state (SPEC §12).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StateBackend {
    #[default]
    Memory,
    Redis,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StateSettings {
    pub backend: StateBackend,
    pub redis: RedisSettings,
}

/// `[state.redis]`; `url` and `key_hash_secret` are required with `backend = "redis"`, which
/// validation checks.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedisSettings {
    /// `redis://` or `rediss://`; may hold a password, hence a secret.
    pub url: Option<Secret>,
    pub key_prefix: String,
    /// HMAC-SHA256 key of the ids in key names.
    pub key_hash_secret: Option<Secret>,
    #[serde(rename = "connect_timeout_ms", deserialize_with = "values::millis")]
    pub connect_timeout: Duration,
    #[serde(rename = "command_timeout_ms", deserialize_with = "values::millis")]
    pub command_timeout: Duration,
    /// A Redis Cluster, reached through the seed nodes in `urls`.
    pub cluster: bool,
    /// The seed nodes of a cluster; each may hold a password, hence secrets.
    pub urls: SecretList,
    /// How long a completion claim or an outbox claim lasts unless renewed (SPEC §12).
    #[serde(rename = "lease_ms", deserialize_with = "values::millis")]
    pub lease: Duration,
    /// Messages per outbox kind.
    pub outbox_capacity: usize,
    /// This replica's name in claims; empty: host name + pid + a random boot id.
    pub replica_name: String,
}

impl Default for RedisSettings {
    fn default() -> Self {
        Self {
            url: None,
            key_prefix: "agw".into(),
            key_hash_secret: None,
            connect_timeout: Duration::from_millis(1000),
            command_timeout: Duration::from_millis(500),
            cluster: false,
            urls: SecretList::default(),
            lease: Duration::from_millis(10_000),
            outbox_capacity: 100_000,
            replica_name: String::new(),
        }
    }
}
