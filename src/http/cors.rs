//! CORS for `/userinfo` (SPEC §3): only origins listed in `server.cors_allowed_origins`, so a
//! browser application elsewhere cannot spend a user's token; the headers a client needs to
//! react to errors and DPoP nonces are exposed.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};

const EXPOSED: &str = "WWW-Authenticate, DPoP-Nonce";

/// The request's `Origin` when it is allowed.
pub fn allowed_origin(req: &HttpRequest, allowed: &[String]) -> Option<HeaderValue> {
    let origin = req.headers().get(header::ORIGIN)?;
    let text = origin.to_str().ok()?;
    allowed.iter().any(|a| a == text).then(|| origin.clone())
}

/// Adds the CORS headers for an allowed origin, and `Vary: Origin` whenever CORS is in use.
pub fn decorate(response: &mut HttpResponse, req: &HttpRequest, allowed: &[String]) {
    if allowed.is_empty() {
        return;
    }
    let headers = response.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = allowed_origin(req, allowed) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSED),
        );
    }
}

/// The answer to a preflight from an allowed origin; `None` for any other origin.
pub fn preflight(req: &HttpRequest, allowed: &[String]) -> Option<HttpResponse> {
    let origin = allowed_origin(req, allowed)?;
    Some(
        HttpResponse::NoContent()
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin))
            .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST"))
            .insert_header((
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                "Authorization, Content-Type, DPoP",
            ))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, "600"))
            .insert_header((header::VARY, "Origin"))
            .finish(),
    )
}
