//! The admin listener: metrics, liveness and readiness (SPEC §2, §8).

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::app::AppState;

pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    // A fleet-wide gauge with `redis`: counted when scraped.
    state.ciba.bridge.registry.refresh_gauge().await;
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, prometheus::TEXT_FORMAT))
        .body(state.metrics.render())
}

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(r#"{"status":"ok"}"#)
}

/// 200 once the listeners are up, 503 from the start of a graceful shutdown; independent of
/// Authlete.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    if state.is_ready() {
        HttpResponse::Ok()
            .content_type("application/json")
            .body(r#"{"status":"ready"}"#)
    } else {
        HttpResponse::ServiceUnavailable()
            .content_type("application/json")
            .body(r#"{"status":"not_ready"}"#)
    }
}
