//! The access log and the HTTP metrics, for every request on the public listener; it also
//! assigns the request id and the trace context (SPEC §13): an incoming `traceparent` is
//! continued, else a trace starts here; the rest of the request runs in that scope.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderValue;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage};

use crate::app::AppState;
use crate::http::request_id::{RequestId, X_REQUEST_ID};
use crate::telemetry::{
    self, KeyValue, Notes, Scope, SpanKind, SpanSpec, TraceContext, TRACEPARENT,
};

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
    let incoming = req
        .headers()
        .get(TRACEPARENT)
        .and_then(|v| v.to_str().ok())
        .and_then(TraceContext::parse);
    let tracer = state.as_ref().and_then(|s| s.tracing.tracer());
    let (mut span, trace) = match &tracer {
        Some(tracer) => {
            let spec = SpanSpec {
                name: format!("{method} request").into(),
                kind: SpanKind::Server,
                attributes: vec![KeyValue::new("http.request.method", method)],
                links: Vec::new(),
            };
            let (span, trace) = telemetry::start(tracer, incoming.as_ref(), spec);
            (Some(span), trace)
        }
        None => (
            None,
            incoming.map_or_else(TraceContext::start, |parent| parent.child()),
        ),
    };
    let notes = span.as_ref().map(|_| Notes::default());
    let scope = Scope {
        trace,
        request_id: Some(id.0.clone()),
        tracer,
        notes: notes.clone(),
    };
    let mut res = telemetry::scope(scope, next.call(req)).await?;
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
    if let Some(span) = &mut span {
        use opentelemetry::trace::Span as _;
        span.update_name(format!("{method} {route}"));
        span.set_attribute(KeyValue::new("http.route", route.clone()));
        span.set_attribute(KeyValue::new(
            "http.response.status_code",
            i64::from(status),
        ));
        if let Some(Ok(mut notes)) = notes.as_ref().map(|n| n.lock()) {
            for note in notes.attributes.drain(..) {
                span.set_attribute(note);
            }
            for link in notes.links.drain(..) {
                span.add_link(telemetry::span_context(&link), Vec::new());
            }
        }
        span.end();
    }
    state
        .metrics
        .http_requests
        .with_label_values(&[&route, method, res.status().as_str()])
        .inc();
    state
        .metrics
        .http_duration
        .with_label_values(&[&route, status_class(status)])
        .observe(elapsed.as_secs_f64());
    if !log::log_enabled!(target: "access", log::Level::Info) {
        return Ok(res);
    }
    let client_ip = state
        .proxies
        .client_ip(res.request())
        .map(|ip| ip.to_string())
        .unwrap_or_else(|| "-".into());
    let latency_ms = (elapsed.as_secs_f64() * 10_000.0).round() / 10.0;
    log::info!(
        target: "access",
        request_id = id.as_str(),
        trace_id = trace.trace_id_hex().as_str(),
        client_ip = client_ip.as_str(),
        method = method,
        route = route.as_str(),
        status = status,
        latency_ms = latency_ms;
        "{method} {route} {status}"
    );
    Ok(res)
}
