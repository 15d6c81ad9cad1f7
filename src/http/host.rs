//! The admin listener's defence against DNS rebinding (SPEC §2): the console and
//! `POST /cache/purge` answer only to a loopback literal, `localhost`, or a name in
//! `admin.allowed_hosts`, and their state-changing requests must be JSON.
//!
//! The guard is attached to the routes themselves (the `/console` scope and the purge
//! resource), never matched against the raw path: what the router reaches, after it decoded
//! `%63onsole` or kept `/console//requests` inside the scope, is what is guarded.

use std::net::{IpAddr, Ipv6Addr};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, Error};

use crate::error::{Code, WireError};
use crate::state::AppState;

/// The host of a `Host` value (RFC 9110 §7.2: `uri-host [ ":" port ]`), or `None` when the
/// value is not one. An IP literal must be followed by nothing or `:port`.
fn parse_host(value: &str) -> Option<Host<'_>> {
    let (host, port) = match value.strip_prefix('[') {
        Some(rest) => {
            let (literal, after) = rest.split_once(']')?;
            let ip = literal.parse::<Ipv6Addr>().ok()?;
            let port = match after {
                "" => "",
                _ => after.strip_prefix(':')?,
            };
            (Host::Ip(IpAddr::V6(ip)), port)
        }
        None => {
            let (name, port) = value.split_once(':').unwrap_or((value, ""));
            if name.is_empty() {
                return None;
            }
            match name.parse::<IpAddr>() {
                Ok(ip) => (Host::Ip(ip), port),
                Err(_) if is_reg_name(name) => (Host::Name(name), port),
                Err(_) => return None,
            }
        }
    };
    let port_ok = port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
    port_ok.then_some(host)
}

enum Host<'a> {
    Ip(IpAddr),
    Name(&'a str),
}

/// A DNS name as a `Host` may carry it: letters, digits, `-` and `.`.
fn is_reg_name(name: &str) -> bool {
    name.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// A loopback literal, `localhost`, or an allowed name (case-insensitive).
pub fn host_allowed(value: &str, allowed: &[String]) -> bool {
    match parse_host(value.trim()) {
        Some(Host::Ip(ip)) => {
            ip.is_loopback()
                || matches!(ip, IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()))
        }
        Some(Host::Name(name)) => {
            name.eq_ignore_ascii_case("localhost")
                || allowed.iter().any(|a| a.eq_ignore_ascii_case(name))
        }
        None => false,
    }
}

fn is_json(req: &ServiceRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// The Host and JSON checks, for the routes that wrap it.
pub async fn guard_admin(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
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
        Some(Code::MisdirectedRequest)
    } else if req.method() == Method::POST && !is_json(&req) {
        Some(Code::UnsupportedMediaType)
    } else {
        None
    };
    match refusal {
        Some(code) => {
            let response = WireError::new(code).response();
            Ok(req.into_response(response).map_into_right_body())
        }
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
            "[::1]",
            "[::ffff:127.0.0.1]:80",
            "LOCALHOST:9464",
            "localhost:",
            "Admin.Internal:9464",
        ] {
            assert!(host_allowed(ok, &allowed), "{ok}");
        }
        for refused in [
            "evil.example",
            "10.0.0.1:9464",
            "[2001:db8::1]",
            "localhost.evil.example",
            "[::1]evil",
            "[::1]:80evil",
            "[::1]:9464:1",
            "[127.0.0.1]",
            "::1",
            "127.0.0.1:80:80",
            "127.0.0.1:123456",
            "localhost:port",
            "localhost@evil.example",
            "localhost evil",
            ":9464",
            "",
        ] {
            assert!(!host_allowed(refused, &allowed), "{refused}");
        }
    }
}
