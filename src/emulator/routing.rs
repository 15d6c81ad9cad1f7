//! The one entry point: splits `/api/[{serviceId}/]<api>` into generation and API name,
//! applies injected faults, checks the API credentials, reads the body and dispatches.

use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::codes;
use super::envelope::api_failure;
use super::params::Body;
use super::state::Emulator;
use super::{ciba, metadata, resource, token};

/// A parsed API path.
#[derive(Debug)]
struct Route {
    /// `Some` for v3 paths (`/api/{serviceId}/...`).
    service_id: Option<u64>,
    /// The API without `/api` and the service id, e.g. `auth/token`.
    api: String,
}

impl Route {
    fn parse(path: &str) -> Option<Route> {
        let rest = path.strip_prefix("/api/")?.trim_end_matches('/');
        let (first, tail) = rest.split_once('/').unwrap_or((rest, ""));
        match first.parse::<u64>() {
            Ok(id) if !tail.is_empty() => Some(Route {
                service_id: Some(id),
                api: tail.to_owned(),
            }),
            _ => Some(Route {
                service_id: None,
                api: rest.to_owned(),
            }),
        }
    }

    /// The `{API Path}` of A001xxx messages: the path without the `/api` prefix.
    fn display(&self) -> String {
        format!("/{}", self.api)
    }
}

/// Default service of the emulator's `App`: every request lands here.
pub(crate) async fn handle(
    req: HttpRequest,
    bytes: web::Bytes,
    state: web::Data<Emulator>,
) -> HttpResponse {
    let Some(route) = Route::parse(req.path()) else {
        return HttpResponse::NotFound().finish();
    };
    if let Some(fault) = state.faults.take(&route.api) {
        if let Some(response) = fault.apply(&route.api).await {
            return response;
        }
    }
    if let Some(response) = credential_error(&state, &req, &route) {
        return response;
    }
    let body = if req.method() == Method::GET {
        Body::from_query(req.query_string())
    } else {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/json");
        match Body::parse(content_type, &bytes) {
            Ok(body) => body,
            // Authlete's catalogue has no code for an unreadable body; it fails as a server
            // error does.
            Err(_) => {
                return api_failure(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    codes::A001101,
                    &[&route.display()],
                )
            }
        }
    };
    dispatch(&state, req.method(), &route, body).await
}

async fn dispatch(state: &Emulator, method: &Method, route: &Route, body: Body) -> HttpResponse {
    let post = method == Method::POST;
    let get = method == Method::GET;
    match route.api.as_str() {
        "backchannel/authentication" if post => ciba::authentication::handle(state, &body),
        "backchannel/authentication/issue" if post => ciba::issue::handle(state, &body),
        "backchannel/authentication/fail" if post => ciba::fail::handle(state, &body),
        "backchannel/authentication/complete" if post => ciba::complete::handle(state, &body).await,
        "auth/token" if post => token::handle(state, &body).await,
        "auth/introspection" if post => resource::introspection::handle(state, &body),
        "auth/introspection/standard" if post => resource::introspection::standard(state, &body),
        "auth/revocation" if post => resource::revocation::handle(state, &body),
        "auth/userinfo" if post => resource::userinfo::handle(state, &body),
        "auth/userinfo/issue" if post => resource::userinfo::issue(state, &body),
        "service/configuration" if get || post => metadata::configuration(state, &body),
        "service/jwks/get" if get => metadata::jwks(state, &body),
        "service/get" if get && route.service_id.is_some() => metadata::service(state),
        api => match api.strip_prefix("client/get/") {
            Some(id) if get => metadata::client(state, id, &route.display()),
            _ => match api.strip_prefix("service/get/") {
                Some(key) if get && key == state.service_id.to_string() => metadata::service(state),
                _ => HttpResponse::NotFound().finish(),
            },
        },
    }
}

/// The 401 for bad API credentials, if any. v3: `Bearer <service access token>` and our
/// service id; v2: `Basic apiKey:apiSecret`.
fn credential_error(state: &Emulator, req: &HttpRequest, route: &Route) -> Option<HttpResponse> {
    let path = route.display();
    let unauthorized =
        |code, extra: &str| api_failure(StatusCode::UNAUTHORIZED, code, &[&path, extra]);
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Some(unauthorized(codes::A001202, ""));
    };
    let value = value.to_str().unwrap_or("");
    let (scheme, credentials) = value.split_once(' ').unwrap_or((value, ""));
    let credentials = credentials.trim();
    match route.service_id {
        Some(service_id) => {
            if !scheme.eq_ignore_ascii_case("bearer") || credentials.is_empty() {
                return Some(unauthorized(codes::A001203, value));
            }
            if !constant_time_eq(credentials, &state.access_token) {
                return Some(unauthorized(codes::A003201, ""));
            }
            if service_id != state.service_id {
                return Some(unauthorized(codes::A003204, &service_id.to_string()));
            }
        }
        None => {
            let decoded = scheme
                .eq_ignore_ascii_case("basic")
                .then(|| STANDARD.decode(credentials).ok())
                .flatten()
                .and_then(|bytes| String::from_utf8(bytes).ok());
            let Some((key, secret)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
                return Some(unauthorized(codes::A001203, value));
            };
            if key != state.service_id.to_string() {
                return Some(unauthorized(codes::A003201, ""));
            }
            if !constant_time_eq(secret, &state.api_secret) {
                return Some(unauthorized(codes::A003204, key));
            }
        }
    }
    None
}

fn constant_time_eq(given: &str, expected: &str) -> bool {
    use subtle::ConstantTimeEq;
    given.as_bytes().ct_eq(expected.as_bytes()).into()
}
