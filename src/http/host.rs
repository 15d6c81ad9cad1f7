//! The admin listener's defence against DNS rebinding (SPEC §2): `/console*` and
//! `POST /cache/purge` answer only to a loopback literal, `localhost`, or a name in
//! `admin.allowed_hosts`, and their state-changing requests must be JSON.

use std::net::IpAddr;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpResponse};

use crate::state::AppState;

/// True for the paths the Host check protects.
fn is_protected(path: &str) -> bool {
    path == "/console" || path.starts_with("/console/") || path == "/cache/purge"
}

/// The host part of a `Host` value, without port or IPv6 brackets.
fn host_name(value: &str) -> &str {
    if let Some(rest) = value.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("");
    }
    match value.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => value,
    }
}

/// A loopback literal, `localhost`, or an allowed name (case-insensitive).
pub fn host_allowed(value: &str, allowed: &[String]) -> bool {
    let host = host_name(value.trim());
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return ip.is_loopback()
            || matches!(ip, IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()));
    }
    allowed.iter().any(|name| name.eq_ignore_ascii_case(host))
}

fn is_json(req: &ServiceRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

fn refuse(status: StatusCode, error: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("application/json")
        .body(serde_json::json!({ "error": error }).to_string())
}

/// Middleware for the admin listener.
pub async fn guard_admin(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    if !is_protected(req.path()) {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let allowed = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.settings.admin.allowed_hosts.clone())
        .unwrap_or_default();
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.to_string()));
    let refusal = if !host.is_some_and(|h| host_allowed(&h, &allowed)) {
        Some(refuse(
            StatusCode::MISDIRECTED_REQUEST,
            "misdirected_request",
        ))
    } else if req.method() == Method::POST && !is_json(&req) {
        Some(refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
        ))
    } else {
        None
    };
    match refusal {
        Some(response) => Ok(req.into_response(response).map_into_right_body()),
        None => Ok(next.call(req).await?.map_into_left_body()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_loopback_localhost_and_allowed_names_only() {
        let allowed = vec!["admin.internal".to_owned()];
        for ok in [
            "127.0.0.1:9464",
            "127.1.2.3",
            "[::1]:9464",
            "LOCALHOST:9464",
            "Admin.Internal:9464",
        ] {
            assert!(host_allowed(ok, &allowed), "{ok}");
        }
        for refused in [
            "evil.example",
            "10.0.0.1:9464",
            "[2001:db8::1]",
            "localhost.evil.example",
        ] {
            assert!(!host_allowed(refused, &allowed), "{refused}");
        }
    }
}
