//! The access log and the HTTP metrics, for every request on the public listener; it also
//! assigns the request id.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderValue;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage};

use crate::app::AppState;
use crate::http::request_id::{RequestId, X_REQUEST_ID};

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

/// The `status_class` label: `2xx` … `5xx` (an informational final status cannot happen).
fn status_class(status: u16) -> &'static str {
    match status {
        ..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
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
        .unwrap_or_else(|| super::UNMATCHED.to_owned());
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
        .with_label_values(&[&route, status_class(status)])
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
