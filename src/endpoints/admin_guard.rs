//! The admin listener's defence against DNS rebinding (SPEC §2): the console and
//! `POST /cache/purge` answer only to an allowed `Host`, and their state-changing requests
//! must be JSON.
//!
//! The guards are attached to the routes themselves (the Host check to the `/console` scope
//! and the purge resource, the JSON check to their POST handlers), never matched against the
//! raw path: what the router reaches, after it decoded `%63onsole` or kept
//! `/console//requests` inside the scope, is what is guarded. A method a resource does not
//! serve gets its 405 whatever the body's type.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, Error};

use crate::app::AppState;
use crate::error::{Code, WireError};
use crate::http::host::host_allowed;

fn is_json(req: &ServiceRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// The Host check, for the scope and resources that wrap it.
pub async fn guard_admin(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let allowed = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.settings.admin.allowed_hosts.clone())
        .unwrap_or_default();
    if names_an_allowed_host(&req, &allowed) {
        Ok(next.call(req).await?.map_into_left_body())
    } else {
        refuse(req, Code::MisdirectedRequest)
    }
}

/// Every host the request names is allowed, and it names one: its `Host` header and, for an
/// absolute-form target, the target's authority (RFC 9112 §3.2.2 makes that the request's host,
/// so it is checked rather than ignored; a proxy may have checked only the other). A second
/// `Host` header is refused (RFC 9112 §3.2), never resolved by taking the first.
fn names_an_allowed_host(req: &ServiceRequest, allowed: &[String]) -> bool {
    let mut headers = req.headers().get_all(header::HOST);
    let header = match (headers.next(), headers.next()) {
        (None, _) => None,
        (Some(value), None) => match value.to_str() {
            Ok(text) => Some(text),
            Err(_) => return false,
        },
        (Some(_), Some(_)) => return false,
    };
    let authority = req.uri().authority().map(|a| a.as_str());
    let mut named = header.into_iter().chain(authority).peekable();
    named.peek().is_some() && named.all(|host| host_allowed(host, allowed))
}

/// The JSON check, for the guarded routes' state-changing handlers.
pub async fn require_json(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    if is_json(&req) {
        Ok(next.call(req).await?.map_into_left_body())
    } else {
        refuse(req, Code::UnsupportedMediaType)
    }
}

fn refuse<B>(req: ServiceRequest, code: Code) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    let response = WireError::new(code).response();
    Ok(req.into_response(response).map_into_right_body())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn named(uri: &str, hosts: &[&str]) -> bool {
        let request = hosts
            .iter()
            .fold(TestRequest::default().uri(uri), |r, host| {
                r.append_header((header::HOST, *host))
            })
            .to_srv_request();
        names_an_allowed_host(&request, &["ops.internal".to_owned()])
    }

    /// The HTTP/1 parser refuses a second `Host` itself; the guard does not rely on it.
    #[test]
    fn every_named_host_must_be_allowed_and_one_must_be_named() {
        assert!(named("/console", &["localhost:9464"]));
        assert!(named("http://ops.internal:9464/console", &["127.0.0.1"]));
        assert!(named("http://[::1]/console", &[]));
        assert!(!named("http://evil.example/console", &["localhost"]));
        assert!(!named("http://localhost/console", &["evil.example"]));
        assert!(!named("http://user@localhost/console", &["localhost"]));
        assert!(!named("/console", &["localhost", "localhost"]));
        assert!(!named("/console", &["evil.example", "localhost"]));
        assert!(!named("/console", &[]));
    }

    #[test]
    fn json_is_the_media_type_whatever_its_case_and_parameters() {
        let typed = |value: &str| {
            is_json(
                &TestRequest::post()
                    .insert_header((header::CONTENT_TYPE, value))
                    .to_srv_request(),
            )
        };
        assert!(typed("application/json"));
        assert!(typed(" Application/JSON ; charset=utf-8"));
        for other in [
            "text/plain",
            "application/json-seq",
            "application/x-www-form-urlencoded",
            "",
        ] {
            assert!(!typed(other), "{other}");
        }
        assert!(!is_json(&TestRequest::post().to_srv_request()));
    }
}
