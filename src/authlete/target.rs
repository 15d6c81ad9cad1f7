//! Where Authlete is and how the gateway authenticates to it (v2 Basic or v3 Bearer).

use std::time::Duration;

use actix_web::http::header::HeaderValue;
use actix_web::http::Uri;
use base64::Engine;

use super::action::Action;
use super::api::Api;
use super::warnings::WarningLog;
use crate::clock::SharedClock;
use crate::config::AuthleteSettings;

/// Everything a worker's client needs to reach Authlete, and what all clients share; built once.
#[derive(Debug)]
pub struct AuthleteTarget {
    /// The URL of each API, in the order of `Api::ALL`: parsed once, cloned per call.
    urls: Vec<Uri>,
    /// Marked sensitive so that it is never logged by the HTTP stack.
    pub(super) authorization: HeaderValue,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub token_timeout: Duration,
    pub complete_timeout: Duration,
    pub retry_after: Duration,
    pub max_connections: usize,
    /// The largest answer read (`authlete.max_response_bytes`).
    pub max_response_bytes: usize,
    /// Which actions each API documents: the action table's, handed in by the composition root
    /// (the table lives with the HTTP answers, above this module).
    pub(super) documents: Documents,
    /// One rate limit for Authlete's warnings across every worker.
    pub(super) warnings: WarningLog,
}

/// True when an API documents an action; any other action fails the call as a server error.
pub type Documents = fn(Api, &Action) -> bool;

/// Service credentials, already resolved (from the config or from the embedded emulator).
pub enum ServiceCredentials {
    V3 {
        service_id: String,
        access_token: String,
    },
    V2 {
        api_key: String,
        api_secret: String,
    },
}

impl AuthleteTarget {
    pub fn new(
        base_url: &str,
        credentials: ServiceCredentials,
        settings: &AuthleteSettings,
        clock: SharedClock,
        documents: Documents,
    ) -> Result<Self, String> {
        let (prefix, authorization) = match credentials {
            ServiceCredentials::V3 {
                service_id,
                access_token,
            } => (
                format!("/api/{service_id}"),
                format!("Bearer {access_token}"),
            ),
            ServiceCredentials::V2 {
                api_key,
                api_secret,
            } => {
                let pair = base64::engine::general_purpose::STANDARD
                    .encode(format!("{api_key}:{api_secret}"));
                ("/api".to_owned(), format!("Basic {pair}"))
            }
        };
        let base_url = base_url.trim_end_matches('/');
        let urls = Api::ALL
            .iter()
            .map(|api| {
                let url = format!("{base_url}{prefix}/{}", api.path());
                Uri::try_from(url).map_err(|e| format!("authlete.base_url: {e}"))
            })
            .collect::<Result<_, _>>()?;
        let mut authorization = HeaderValue::from_str(&authorization)
            .map_err(|_| "authlete credentials contain characters not allowed in a header")?;
        authorization.set_sensitive(true);
        Ok(Self {
            urls,
            authorization,
            connect_timeout: settings.connect_timeout,
            request_timeout: settings.request_timeout,
            token_timeout: settings.token_timeout,
            complete_timeout: settings.complete_timeout,
            retry_after: settings.retry_after,
            max_connections: settings.max_connections,
            max_response_bytes: settings.max_response_bytes,
            warnings: WarningLog::new(clock),
            documents,
        })
    }

    /// The full URL of `api`.
    pub fn url(&self, api: Api) -> Uri {
        self.urls[api as usize].clone()
    }
}
