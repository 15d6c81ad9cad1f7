//! The routes of both listeners; one module per endpoint, thin handlers.

pub mod admin;
mod admin_guard;
pub mod backchannel;
pub mod console;
pub mod decisions;
pub mod introspection;
pub mod metadata;
pub mod observe;
pub mod purge;
pub mod revocation;
pub mod token;
pub mod userinfo;

use actix_web::middleware::from_fn;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::app::AppState;
use crate::authlete::dto::ClientCredentials;
use crate::error::GatewayError;
use crate::http::form::read_form;
use crate::http::FormBody;
use admin_guard::guard_admin;

/// The client's credentials and form body, for the endpoints that forward both to Authlete
/// (backchannel authentication, token, revocation). Credentials are checked first, so a
/// malformed `Authorization` is refused without reading the body.
pub async fn client_form(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<(ClientCredentials, FormBody), GatewayError> {
    let credentials = state.credentials.collect(req)?;
    let form = read_form(req, payload, state.settings.server.max_body_bytes).await?;
    Ok((credentials, form))
}

/// A resource that answers other methods with 405 and `Allow`.
fn resource(path: &str, allow: &'static str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(move || async move {
        Err::<HttpResponse, _>(GatewayError::MethodNotAllowed { allow })
    }))
}

/// 404 `{"error":"not_found"}` for unknown paths.
pub async fn not_found() -> Result<HttpResponse, GatewayError> {
    Err(GatewayError::NotFound)
}

/// The patterns of `public_routes`, for the `route` label's series exported at 0 (SPEC §8); a
/// test checks that each one is served.
pub const PUBLIC_ROUTES: [&str; 8] = [
    "/backchannel/authentication",
    "/token",
    "/device/decisions",
    "/.well-known/openid-configuration",
    "/jwks",
    "/introspection",
    "/revocation",
    "/userinfo",
];

/// The `route` label of a request no route matched.
pub const UNMATCHED: &str = "unmatched";

/// The public listener's routes, relative to `public_url`'s path.
pub fn public_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/backchannel/authentication", "POST")
            .route(web::post().to(backchannel::backchannel_authentication)),
    )
    .service(resource("/token", "POST").route(web::post().to(token::token)))
    .service(
        resource("/device/decisions", "POST").route(web::post().to(decisions::device_decisions)),
    )
    .service(
        resource("/.well-known/openid-configuration", "GET, HEAD, OPTIONS")
            .route(web::get().to(metadata::discovery))
            .route(web::head().to(metadata::discovery))
            .route(web::method(actix_web::http::Method::OPTIONS).to(metadata::preflight)),
    )
    .service(
        resource("/jwks", "GET, HEAD, OPTIONS")
            .route(web::get().to(metadata::jwks))
            .route(web::head().to(metadata::jwks))
            .route(web::method(actix_web::http::Method::OPTIONS).to(metadata::preflight)),
    )
    .service(resource("/introspection", "POST").route(web::post().to(introspection::introspection)))
    .service(resource("/revocation", "POST").route(web::post().to(revocation::revocation)))
    .service(
        resource("/userinfo", "GET, POST")
            .route(web::get().to(userinfo::userinfo))
            .route(web::post().to(userinfo::userinfo))
            .route(web::method(actix_web::http::Method::OPTIONS).to(userinfo::preflight)),
    );
}

/// The admin listener's routes; the console only with `admin.console = true`.
pub fn admin_routes(cfg: &mut web::ServiceConfig, console_enabled: bool) {
    cfg.service(
        resource("/metrics", "GET, HEAD")
            .route(web::get().to(admin::metrics))
            .route(web::head().to(admin::metrics)),
    )
    .service(
        resource("/healthz", "GET, HEAD")
            .route(web::get().to(admin::healthz))
            .route(web::head().to(admin::healthz)),
    )
    .service(
        resource("/readyz", "GET, HEAD")
            .route(web::get().to(admin::readyz))
            .route(web::head().to(admin::readyz)),
    )
    .service(
        resource("/cache/purge", "POST")
            .route(web::post().to(purge::purge))
            .wrap(from_fn(guard_admin)),
    );
    if console_enabled {
        cfg.service(console_scope());
    }
}

/// The console under one scope, so that the admin guard covers every path the router sends
/// into it, including ones no console resource matches (404 after the guard).
fn console_scope() -> actix_web::Scope<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    web::scope("/console")
        .service(resource("", "GET").route(web::get().to(console::page)))
        .service(resource("/app.js", "GET").route(web::get().to(console::script)))
        .service(resource("/requests", "GET").route(web::get().to(console::requests)))
        .service(resource("/decisions", "POST").route(web::post().to(console::decide)))
        .service(
            resource("/notifications", "GET, POST")
                .route(web::get().to(console::notifications))
                .route(web::post().to(console::receive_notification)),
        )
        .default_service(web::to(not_found))
        .wrap(from_fn(guard_admin))
}
