//! The per-worker Authlete client: one awc `Client` with explicit timeouts, limits and headers.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use actix_web::http::header::{self, HeaderMap, HeaderValue};
use awc::error::SendRequestError;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::api::{Api, TimeoutClass};
use super::dto::Envelope;
use super::error::UpstreamError;
use super::target::AuthleteTarget;
use crate::backoff;
use crate::error::GatewayError;
use crate::metrics::Metrics;

/// Largest Authlete answer the gateway reads; token responses with ID tokens stay far below.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// Cap on a `Retry-After` passed on to clients.
pub const MAX_RETRY_AFTER_SECS: u64 = 60;

/// A raw (non-envelope) answer, for discovery and JWKS.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    pub body: Bytes,
}

/// Calls Authlete. Built once per worker, since awc's `Client` is `!Send`.
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
        let connector = awc::Connector::new()
            .timeout(target.connect_timeout)
            .limit(target.max_connections)
            .rustls_0_23(tls);
        let http = awc::Client::builder()
            .connector(connector)
            .no_default_headers()
            .add_default_header((header::USER_AGENT, crate::USER_AGENT))
            .disable_redirects()
            // Every call sets its own timeout; this one only guards a forgotten one.
            .timeout(target.request_timeout)
            .finish();
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
    ) -> Result<Resp, GatewayError>
    where
        Req: Serialize,
        Resp: DeserializeOwned + Envelope,
    {
        let started = Instant::now();
        let outcome = self.post_envelope::<Req, Resp>(api, body, request_id).await;
        let label = match &outcome {
            Ok(resp) => {
                self.target.warnings.log(api, resp.warnings(), request_id);
                api.documented(resp.action()).unwrap_or("unknown")
            }
            Err(e) => e.metric_action(),
        };
        self.observe(api, label, started);
        outcome.map_err(|e| self.failure(api, e, request_id))
    }

    /// GETs a raw JSON document (discovery, JWKS).
    pub async fn get_raw(&self, api: Api, request_id: &str) -> Result<RawResponse, GatewayError> {
        let started = Instant::now();
        let outcome = self.exchange(api, None, request_id).await;
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

    /// Logs a failure once, with its cause, and turns it into the client-facing error.
    fn failure(&self, api: Api, error: UpstreamError, request_id: &str) -> GatewayError {
        if error.is_transient() {
            log::warn!("request_id={request_id} api={} {error}", api.name());
        } else {
            log::error!("request_id={request_id} api={} {error}", api.name());
        }
        let retry_after_secs = error
            .retry_after()
            .unwrap_or(self.target.retry_after_secs)
            .min(MAX_RETRY_AFTER_SECS);
        GatewayError::Upstream {
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
        if api.documented(resp.action()).is_none() {
            return Err(UpstreamError::UnknownAction {
                action: resp.action().chars().take(64).collect(),
                result_code: resp.result_code().map(str::to_owned),
            });
        }
        Ok(resp)
    }

    /// One HTTP exchange, retried once only when the connection failed before sending.
    async fn exchange(
        &self,
        api: Api,
        payload: Option<Bytes>,
        request_id: &str,
    ) -> Result<RawResponse, UpstreamError> {
        let timeout = self.timeout_for(api);
        let deadline = Instant::now() + timeout;
        let url = self.target.url(api);
        let mut attempt = 0;
        let response = loop {
            attempt += 1;
            let remaining = deadline.saturating_duration_since(Instant::now());
            let request = self
                .http
                .request(
                    if payload.is_some() {
                        awc::http::Method::POST
                    } else {
                        awc::http::Method::GET
                    },
                    url.as_str(),
                )
                .timeout(remaining.max(Duration::from_millis(1)))
                .insert_header((header::AUTHORIZATION, self.target.authorization.clone()))
                .insert_header((header::ACCEPT, "application/json"))
                .insert_header(("X-Request-Id", request_id));
            let sent = match &payload {
                Some(body) => {
                    request
                        .insert_header((header::CONTENT_TYPE, "application/json"))
                        .send_body(body.clone())
                        .await
                }
                None => request.send().await,
            };
            match sent {
                Ok(response) => break response,
                Err(SendRequestError::Connect(e)) if attempt == 1 => {
                    log::debug!("request_id={request_id} connect failed ({e}); retrying once");
                }
                Err(e) => return Err(classify_send_error(e, timeout)),
            }
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let remaining = deadline.saturating_duration_since(Instant::now());
        let mut response = response.timeout(remaining.max(Duration::from_millis(1)));
        let body = response
            .body()
            .limit(MAX_RESPONSE_BYTES)
            .await
            .map_err(|e| match e {
                awc::error::PayloadError::Io(ref io)
                    if io.kind() == std::io::ErrorKind::TimedOut =>
                {
                    UpstreamError::Timeout(timeout)
                }
                other => UpstreamError::Body(format!("reading the answer: {other}")),
            })?;
        check_status(status, &headers, &body)?;
        Ok(RawResponse { status, body })
    }

    fn timeout_for(&self, api: Api) -> Duration {
        match api.timeout_class() {
            TimeoutClass::Request => self.target.request_timeout,
            TimeoutClass::Token => self.target.token_timeout,
            TimeoutClass::Complete => self.target.complete_timeout,
        }
    }
}

fn classify_send_error(error: SendRequestError, timeout: Duration) -> UpstreamError {
    match error {
        SendRequestError::Connect(e) => UpstreamError::Connect(e.to_string()),
        SendRequestError::Timeout => UpstreamError::Timeout(timeout),
        other => UpstreamError::Transport(other.to_string()),
    }
}

fn check_status(status: u16, headers: &HeaderMap, body: &[u8]) -> Result<(), UpstreamError> {
    if (200..300).contains(&status) {
        return Ok(());
    }
    let result_code = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get("resultCode")?
                .as_str()
                .map(|s| s.chars().take(16).collect())
        });
    if status == 429 || status >= 500 {
        Err(UpstreamError::Unavailable {
            status,
            retry_after: retry_after(headers, SystemTime::now()),
            result_code,
        })
    } else {
        Err(UpstreamError::Rejected {
            status,
            result_code,
        })
    }
}

/// Authlete's advice on when to retry, in the order Authlete documents its headers:
/// `RateLimit-Reset`, then `X-RateLimit-Reset` (delay seconds), then `Retry-After` (delay seconds
/// or an HTTP date). A value that is ≤ 0 or does not parse says nothing, so the next header is
/// read; with none left the caller falls back to `authlete.retry_after_secs`.
fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<u64> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let resets = ["ratelimit-reset", "x-ratelimit-reset"]
        .into_iter()
        .map(|name| text(name).and_then(|value| value.trim().parse::<u64>().ok()));
    let delay = text("retry-after")
        .and_then(|value| backoff::retry_after(value, now))
        // A date a fraction of a second ahead still means "not yet": round up.
        .map(|wait| wait.as_secs() + u64::from(wait.subsec_nanos() > 0));
    resets
        .chain(std::iter::once(delay))
        .flatten()
        .find(|secs| *secs > 0)
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                header::HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        map
    }

    fn advice(pairs: &[(&'static str, &'static str)]) -> Option<u64> {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap_or(UNIX_EPOCH);
        retry_after(&headers(pairs), now)
    }

    #[test]
    fn retry_after_reads_each_header_alone() {
        assert_eq!(advice(&[("ratelimit-reset", "12")]), Some(12));
        assert_eq!(advice(&[("x-ratelimit-reset", "11")]), Some(11));
        assert_eq!(advice(&[("retry-after", "7")]), Some(7));
        assert_eq!(
            advice(&[("retry-after", "Sun, 06 Nov 1994 08:50:07 GMT")]),
            Some(30)
        );
        assert_eq!(advice(&[("retry-after", "soon")]), None);
        assert_eq!(advice(&[]), None);
    }

    #[test]
    fn retry_after_prefers_rate_limit_reset_then_its_x_form_then_retry_after() {
        let all = [
            ("ratelimit-reset", "12"),
            ("x-ratelimit-reset", "11"),
            ("retry-after", "7"),
        ];
        assert_eq!(advice(&all), Some(12));
        assert_eq!(advice(&all[1..]), Some(11));
        assert_eq!(
            advice(&[("ratelimit-reset", "12"), ("retry-after", "7")]),
            Some(12)
        );
    }

    #[test]
    fn retry_after_skips_zero_negative_and_past_values() {
        assert_eq!(
            advice(&[("ratelimit-reset", "0"), ("retry-after", "9")]),
            Some(9)
        );
        assert_eq!(
            advice(&[("ratelimit-reset", "-3"), ("x-ratelimit-reset", "4")]),
            Some(4)
        );
        assert_eq!(
            advice(&[
                ("x-ratelimit-reset", "0"),
                ("retry-after", "Sun, 06 Nov 1994 08:00:00 GMT")
            ]),
            None
        );
        assert_eq!(advice(&[("retry-after", "0")]), None);
    }

    #[test]
    fn status_classes_map_to_transient_or_rejected() {
        let none = headers(&[]);
        assert!(matches!(
            check_status(503, &none, b""),
            Err(UpstreamError::Unavailable { status: 503, .. })
        ));
        assert!(matches!(
            check_status(401, &none, br#"{"resultCode":"A001202"}"#),
            Err(UpstreamError::Rejected { status: 401, result_code: Some(ref c) }) if c == "A001202"
        ));
        assert!(check_status(204, &none, b"").is_ok());
    }
}
