//! The request id, the access log and the HTTP metrics, for every request on the public
//! listener.

use std::future::{ready, Ready};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, Error, FromRequest, HttpMessage, HttpRequest};

use crate::state::AppState;

pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request id: the client's valid `X-Request-Id`, or a fresh UUIDv4.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

impl RequestId {
    fn from_header(value: Option<&HeaderValue>) -> Self {
        value
            .and_then(|v| v.to_str().ok())
            .filter(|v| is_valid_request_id(v))
            .map(|v| RequestId(v.to_owned()))
            .unwrap_or_else(|| RequestId(uuid::Uuid::new_v4().to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `^[A-Za-z0-9._:+/=-]{1,128}$`
pub fn is_valid_request_id(value: &str) -> bool {
    (1..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:+/=-".contains(&b))
}

impl FromRequest for RequestId {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let id = req.extensions().get::<RequestId>().cloned();
        ready(Ok(id.unwrap_or_else(|| {
            RequestId::from_header(req.headers().get(X_REQUEST_ID))
        })))
    }
}

/// The `method` label: one of a fixed set.
fn method_label(method: &actix_web::http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

/// Assigns the request id, echoes it, writes the access log line and the HTTP metrics.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let id = RequestId::from_header(req.headers().get(X_REQUEST_ID));
    req.extensions_mut().insert(id.clone());
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let method = method_label(req.method());
    let mut res = next.call(req).await?;
    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        res.headers_mut().insert(X_REQUEST_ID, value);
    }
    let Some(state) = state else {
        return Ok(res);
    };
    let route = res
        .request()
        .match_pattern()
        .map(|p| state.route_label(&p))
        .unwrap_or_else(|| "unmatched".to_owned());
    let status = res.status().as_u16();
    let elapsed = started.elapsed();
    state
        .metrics
        .http_requests
        .with_label_values(&[&route, method, &status.to_string()])
        .inc();
    state
        .metrics
        .http_duration
        .with_label_values(&[&route])
        .observe(elapsed.as_secs_f64());
    let client_ip = state
        .proxies
        .client_ip(res.request())
        .map(|ip| ip.to_string())
        .unwrap_or_else(|| "-".into());
    log::info!(
        target: "access",
        "request_id={} client_ip={client_ip} method={method} route={route} status={status} latency_ms={:.1}",
        id.as_str(),
        elapsed.as_secs_f64() * 1000.0
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_follow_the_allowed_pattern() {
        assert!(is_valid_request_id("abc-123_x.y:z+/="));
        assert!(!is_valid_request_id(""));
        assert!(!is_valid_request_id("has space"));
        assert!(!is_valid_request_id(&"a".repeat(129)));
        assert!(is_valid_request_id(&"a".repeat(128)));
    }
}
