//! The routes of both listeners; one module per endpoint, thin handlers.

pub mod admin;
pub mod backchannel;
pub mod token;

use actix_web::{web, HttpResponse};

use crate::error::GatewayError;

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

/// The public listener's routes, relative to `public_url`'s path.
pub fn public_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/backchannel/authentication", "POST")
            .route(web::post().to(backchannel::backchannel_authentication)),
    )
    .service(resource("/token", "POST").route(web::post().to(token::token)));
}

/// The admin listener's routes.
pub fn admin_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/metrics", "GET, HEAD").route(web::get().to(admin::metrics)))
        .service(resource("/healthz", "GET, HEAD").route(web::get().to(admin::healthz)))
        .service(resource("/readyz", "GET, HEAD").route(web::get().to(admin::readyz)));
}
