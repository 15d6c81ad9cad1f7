//! `POST /cache/purge` on the admin listener (SPEC §7): empties the metadata cache, e.g. after a
//! signing-key rotation, so the next discovery and JWKS requests fetch from Authlete. The Host
//! and JSON checks of `http::host` run before it.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::app::AppState;

pub async fn purge(state: web::Data<AppState>) -> HttpResponse {
    state.metadata.purge();
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("application/json")
        .body(r#"{"purged":true}"#)
}
