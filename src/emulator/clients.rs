//! The registered clients (`[[emulator.clients]]`) and client authentication.
//!
//! Each configured `client_id` is the client's alias; its numeric `clientId` is derived
//! from it (stable across restarts). Clients may present either.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::codes::{self, Code};
use super::params::{Body, Params};
use crate::config::{DeliveryMode, EmulatorClient, Secret};

/// How a client authenticates, as registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AuthMethod {
    None,
    SecretBasic,
    SecretPost,
    Unsupported(String),
}

impl AuthMethod {
    fn parse(text: &str) -> Self {
        match text {
            "none" => Self::None,
            "client_secret_basic" => Self::SecretBasic,
            "client_secret_post" => Self::SecretPost,
            other => Self::Unsupported(other.to_owned()),
        }
    }

    /// The name registered in the client metadata (`token_endpoint_auth_method`).
    fn metadata_name(&self) -> &str {
        match self {
            Self::None => "none",
            Self::SecretBasic => "client_secret_basic",
            Self::SecretPost => "client_secret_post",
            Self::Unsupported(other) => other,
        }
    }

    /// The `ClientAuthMethod` enum name.
    pub fn wire(&self) -> String {
        match self {
            Self::None => "NONE".into(),
            Self::SecretBasic => "CLIENT_SECRET_BASIC".into(),
            Self::SecretPost => "CLIENT_SECRET_POST".into(),
            Self::Unsupported(other) => other.to_ascii_uppercase(),
        }
    }
}

/// A registered client.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    pub id: u64,
    pub alias: String,
    pub secret: Option<Secret>,
    pub name: Option<String>,
    pub mode: DeliveryMode,
    pub endpoint: Option<String>,
    pub user_code_required: bool,
    pub method: AuthMethod,
    /// `GrantType` enum names (`CIBA`, `REFRESH_TOKEN`, ...).
    pub grant_types: Vec<String>,
    /// `bcRequestSignAlg`: the JWS algorithm of its signed backchannel requests.
    pub request_signing_alg: Option<String>,
    /// Its JWK Set (public keys), parsed; a registration that is not a JSON object has none.
    pub jwks: Option<Value>,
    /// FAPI-CIBA applies to its backchannel requests.
    pub fapi_ciba: bool,
    /// `defaultAcrs`: the ACRs of a backchannel request without `acr_values`.
    pub default_acrs: Vec<String>,
}

impl Client {
    fn from_settings(c: &EmulatorClient) -> Self {
        Client {
            id: numeric_id(&c.client_id),
            alias: c.client_id.clone(),
            secret: c.client_secret.clone(),
            name: c.client_name.clone(),
            mode: c.delivery_mode,
            endpoint: c.notification_endpoint.clone(),
            user_code_required: c.user_code_required,
            method: AuthMethod::parse(&c.token_auth_method),
            grant_types: c.grant_types.iter().map(|g| grant_type_name(g)).collect(),
            request_signing_alg: c
                .request_signing_alg
                .clone()
                .filter(|alg| !alg.trim().is_empty()),
            jwks: c
                .jwks
                .as_deref()
                .and_then(|text| serde_json::from_str::<Value>(text).ok())
                .filter(Value::is_object),
            fapi_ciba: c.fapi_ciba,
            default_acrs: c.default_acrs.clone(),
        }
    }

    pub fn allows(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant_type)
    }

    pub fn is_public(&self) -> bool {
        self.method == AuthMethod::None
    }
}

/// `DeliveryMode` enum name.
pub(crate) fn mode_name(mode: DeliveryMode) -> &'static str {
    match mode {
        DeliveryMode::Poll => "POLL",
        DeliveryMode::Ping => "PING",
        DeliveryMode::Push => "PUSH",
    }
}

/// Maps a configured grant type (`ciba`, `refresh_token`, or a URN) to its enum name.
pub(crate) fn grant_type_name(text: &str) -> String {
    match text {
        "ciba" | "urn:openid:params:grant-type:ciba" => "CIBA".into(),
        other => other.to_ascii_uppercase(),
    }
}

/// A numeric alias keeps its number; any other alias gets a 14-digit number from its hash.
fn numeric_id(alias: &str) -> u64 {
    if let Ok(id) = alias.parse::<u64>() {
        return id;
    }
    let digest = Sha256::digest(alias.as_bytes());
    let mut head = [0u8; 8];
    head.copy_from_slice(&digest[..8]);
    10_000_000_000_000 + u64::from_be_bytes(head) % 90_000_000_000_000
}

/// The registry.
#[derive(Debug, Clone)]
pub(crate) struct Clients(Vec<Client>);

/// What the client presented: the API's `clientId`/`clientSecret` (from its Basic header)
/// and `client_id`/`client_secret` from its form body.
#[derive(Debug, Default)]
pub(crate) struct Credentials<'a> {
    pub basic_id: Option<String>,
    pub basic_secret: Option<String>,
    pub post_id: Option<&'a str>,
    pub post_secret: Option<&'a str>,
}

impl<'a> Credentials<'a> {
    /// The credentials of an API call: `clientId`/`clientSecret` from its body, and
    /// `client_id`/`client_secret` from the client's own form in `parameters`.
    pub fn presented(body: &Body, params: &'a Params) -> Self {
        Self {
            basic_id: body.string("clientId"),
            basic_secret: body.string("clientSecret"),
            post_id: params.get("client_id"),
            post_secret: params.get("client_secret"),
        }
    }
}

/// A successfully identified and authenticated client.
#[derive(Debug)]
pub(crate) struct Authenticated<'a> {
    pub client: &'a Client,
    /// The identifier the client used (alias or number), e.g. for the ID token's `aud`.
    pub ident: String,
    pub alias_used: bool,
}

/// Why authentication failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuthFailure {
    pub code: Code,
    pub args: Vec<String>,
    /// A168311: the client is public where a confidential one is required.
    pub public: bool,
}

impl AuthFailure {
    fn new(code: Code, args: &[&str]) -> Self {
        let args = args.iter().map(|s| (*s).to_owned()).collect();
        Self {
            code,
            args,
            public: false,
        }
    }

    pub fn args(&self) -> Vec<&str> {
        self.args.iter().map(String::as_str).collect()
    }
}

impl Clients {
    pub fn new(settings: &[EmulatorClient]) -> Self {
        Self(settings.iter().map(Client::from_settings).collect())
    }

    /// Finds a client by alias or numeric id; the flag says whether the alias was used.
    pub fn find(&self, ident: &str) -> Option<(&Client, bool)> {
        self.0.iter().find_map(|c| {
            if c.alias == ident && c.id.to_string() != ident {
                Some((c, true))
            } else if c.id.to_string() == ident {
                Some((c, false))
            } else {
                None
            }
        })
    }

    /// Whether any client may send signed backchannel requests.
    pub fn any_signing(&self) -> bool {
        self.0.iter().any(|c| c.request_signing_alg.is_some())
    }

    pub fn any_public(&self) -> bool {
        self.0.iter().any(Client::is_public)
    }

    pub fn by_id(&self, id: u64) -> Option<&Client> {
        self.0.iter().find(|c| c.id == id)
    }

    /// Identifies and authenticates the client; public clients pass only if `allow_public`.
    pub fn authenticate(
        &self,
        creds: &Credentials<'_>,
        allow_public: bool,
    ) -> Result<Authenticated<'_>, AuthFailure> {
        let ident = match (creds.basic_id.as_deref(), creds.post_id) {
            (Some(a), Some(b)) if a != b => return Err(AuthFailure::new(codes::A168303, &[])),
            (Some(id), _) | (None, Some(id)) => id,
            (None, None) => return Err(AuthFailure::new(codes::A168309, &[])),
        };
        let Some((client, alias_used)) = self.find(ident) else {
            return Err(AuthFailure::new(codes::A168310, &[ident]));
        };
        if client.is_public() && !allow_public {
            return Err(AuthFailure {
                public: true,
                ..AuthFailure::new(codes::A168311, &[])
            });
        }
        let secret = creds.basic_secret.as_deref().or(creds.post_secret);
        match (&client.method, secret) {
            (AuthMethod::Unsupported(name), _) => {
                return Err(AuthFailure::new(codes::A157344, &[name]))
            }
            (AuthMethod::None, Some(_)) => return Err(AuthFailure::new(codes::A157303, &[])),
            (AuthMethod::None, None) => {}
            (method, None) => {
                let name = method.metadata_name();
                return Err(AuthFailure::new(codes::A157304, &[name]));
            }
            (_, Some(given)) => {
                let matches = client
                    .secret
                    .as_ref()
                    .is_some_and(|expected| expected.ct_eq(given.as_bytes()));
                if !matches {
                    return Err(AuthFailure::new(codes::A157305, &[]));
                }
            }
        }
        Ok(Authenticated {
            client,
            ident: ident.to_owned(),
            alias_used,
        })
    }
}
