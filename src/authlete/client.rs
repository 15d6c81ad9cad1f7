//! The per-worker Authlete client: one awc `Client` with explicit timeouts, limits and headers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::api::{Api, TimeoutClass};
use super::dto::Envelope;
use super::error::{AuthleteFailure, UpstreamError};
use super::target::AuthleteTarget;
use crate::metrics::Metrics;
use crate::outbound::{self, Addresses, ClientSettings, ReadBody, X_REQUEST_ID};
use crate::telemetry::{self, KeyValue, SpanKind, SpanSpec};

const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// Cap on a `Retry-After` passed on to clients.
pub const MAX_RETRY_AFTER_SECS: u64 = 60;

/// A raw (non-envelope) answer, for discovery and JWKS.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    pub body: Bytes,
}

/// Calls Authlete. Built once per worker, since awc's `Client` is `!Send`; a clone shares its
/// connections.
#[derive(Clone)]
pub struct AuthleteClient {
    http: awc::Client,
    target: Arc<AuthleteTarget>,
    metrics: Metrics,
}

impl AuthleteClient {
    pub fn new(
        target: Arc<AuthleteTarget>,
        tls: Arc<rustls::ClientConfig>,
        metrics: Metrics,
    ) -> Self {
        let http = ClientSettings {
            tls,
            connect_timeout: target.connect_timeout,
            handshake_timeout: outbound::DEFAULT_HANDSHAKE_TIMEOUT,
            max_connections: target.max_connections,
            keep_alive: outbound::DEFAULT_KEEP_ALIVE,
            addresses: Addresses::Resolve,
        }
        .build();
        Self {
            http,
            target,
            metrics,
        }
    }

    /// POSTs `body` as JSON to `api` and parses the envelope.
    pub async fn call<Req, Resp>(
        &self,
        api: Api,
        body: &Req,
        request_id: &str,
    ) -> Result<Resp, AuthleteFailure>
    where
        Req: Serialize,
        Resp: DeserializeOwned + Envelope,
    {
        let started = Instant::now();
        let outcome = telemetry::in_span(
            || span(api),
            self.post_envelope::<Req, Resp>(api, body, request_id),
            |outcome| match outcome {
                Ok(resp) => {
                    let mut attributes =
                        vec![KeyValue::new("authlete.action", resp.action().label())];
                    if let Some(code) = resp.result_code() {
                        attributes.push(KeyValue::new("authlete.result_code", code.to_owned()));
                    }
                    attributes
                }
                Err(e) => vec![KeyValue::new("authlete.action", e.metric_action())],
            },
        )
        .await;
        let (label, result_code) = match &outcome {
            Ok(resp) => {
                self.target.warnings.log(api, resp.warnings(), request_id);
                (resp.action().label(), resp.result_code())
            }
            Err(e) => (e.metric_action(), None),
        };
        self.observe(api, label, started);
        log::debug!(
            target: "authlete",
            request_id = request_id,
            api = api.name(),
            action = label,
            result_code = result_code.unwrap_or("-"),
            latency_ms = started.elapsed().as_millis() as u64;
            "Authlete answered"
        );
        outcome.map_err(|e| self.failure(api, e, request_id))
    }

    /// GETs a raw JSON document (discovery, JWKS).
    pub async fn get_raw(
        &self,
        api: Api,
        request_id: &str,
    ) -> Result<RawResponse, AuthleteFailure> {
        let started = Instant::now();
        let outcome = telemetry::in_span(
            || span(api),
            self.exchange(api, None, request_id),
            |outcome| match outcome {
                Ok(_) => Vec::new(),
                Err(e) => vec![KeyValue::new("authlete.action", e.metric_action())],
            },
        )
        .await;
        let label = match &outcome {
            Ok(_) => super::api::DOCUMENT_SERVED,
            Err(e) => e.metric_action(),
        };
        self.observe(api, label, started);
        outcome.map_err(|e| self.failure(api, e, request_id))
    }

    fn observe(&self, api: Api, action: &str, started: Instant) {
        self.metrics
            .authlete_requests
            .with_label_values(&[api.name(), action])
            .inc();
        self.metrics
            .authlete_duration
            .with_label_values(&[api.name()])
            .observe(started.elapsed().as_secs_f64());
    }

    /// Logs a failure once, with its cause, and settles the `Retry-After` clients get.
    fn failure(&self, api: Api, error: UpstreamError, request_id: &str) -> AuthleteFailure {
        if error.is_transient() {
            log::warn!(request_id = request_id, api = api.name(); "Authlete call failed: {error}");
        } else {
            log::error!(request_id = request_id, api = api.name(); "Authlete call failed: {error}");
        }
        let retry_after_secs = error
            .retry_after()
            .unwrap_or(self.target.retry_after.as_secs())
            .min(MAX_RETRY_AFTER_SECS);
        AuthleteFailure {
            error,
            retry_after_secs,
        }
    }

    async fn post_envelope<Req, Resp>(
        &self,
        api: Api,
        body: &Req,
        request_id: &str,
    ) -> Result<Resp, UpstreamError>
    where
        Req: Serialize,
        Resp: DeserializeOwned + Envelope,
    {
        let payload = serde_json::to_vec(body)
            .map_err(|e| UpstreamError::Body(format!("serializing the request: {e}")))?;
        let raw = self
            .exchange(api, Some(Bytes::from(payload)), request_id)
            .await?;
        let resp: Resp = serde_json::from_slice(&raw.body)
            .map_err(|e| UpstreamError::Body(format!("parsing the answer: {e}")))?;
        if !(self.target.documents)(api, resp.action()) {
            return Err(UpstreamError::UnknownAction {
                action: resp.action().to_string().chars().take(64).collect(),
                result_code: resp.result_code().map(str::to_owned),
            });
        }
        Ok(resp)
    }

    /// One HTTP exchange within the API's timeout, tried again once only when the connection
    /// failed before anything was sent.
    async fn exchange(
        &self,
        api: Api,
        payload: Option<Bytes>,
        request_id: &str,
    ) -> Result<RawResponse, UpstreamError> {
        let timeout = self.timeout_for(api);
        let deadline = Instant::now() + timeout;
        let read = ReadBody::Keep {
            max_bytes: self.target.max_response_bytes,
        };
        let mut attempt = 0;
        let reply = loop {
            attempt += 1;
            let request = self.request(api, payload.is_some(), request_id);
            match outbound::send(request, payload.clone(), read, deadline).await {
                Err(failure) if attempt == 1 && failure.retry_safe() => {
                    log::debug!(
                        request_id = request_id; "{failure}; retrying once"
                    );
                }
                outcome => break outcome,
            }
        };
        let reply = reply.map_err(|failure| UpstreamError::from_failure(failure, timeout))?;
        super::error::check_status(reply.status, &reply.headers, &reply.body)?;
        Ok(RawResponse {
            status: reply.status,
            body: reply.body,
        })
    }

    /// A POST with a JSON body, or a GET; only the headers Authlete needs.
    fn request(&self, api: Api, post: bool, request_id: &str) -> awc::ClientRequest {
        let method = if post { Method::POST } else { Method::GET };
        let request = self
            .http
            .request(method, self.target.url(api))
            .insert_header((header::AUTHORIZATION, self.target.authorization.clone()))
            .insert_header((header::ACCEPT, JSON));
        let request = match HeaderValue::from_str(request_id) {
            Ok(id) => request.insert_header((X_REQUEST_ID, id)),
            Err(_) => request,
        };
        if post {
            request.insert_header((header::CONTENT_TYPE, JSON))
        } else {
            request
        }
    }

    fn timeout_for(&self, api: Api) -> Duration {
        match api.timeout_class() {
            TimeoutClass::Request => self.target.request_timeout,
            TimeoutClass::Token => self.target.token_timeout,
            TimeoutClass::Complete => self.target.complete_timeout,
        }
    }
}

/// One span per Authlete call (SPEC §13): its API; the action and result code come at the end.
fn span(api: Api) -> SpanSpec {
    SpanSpec {
        name: format!("authlete {}", api.name()).into(),
        kind: SpanKind::Client,
        attributes: vec![KeyValue::new("authlete.api", api.name())],
        links: Vec::new(),
    }
}
