//! `GET|HEAD /.well-known/openid-configuration` and `GET|HEAD /jwks` (SPEC §3.3): Authlete's
//! documents from the metadata cache, never rewritten, cacheable by anyone (`public`), with a
//! strong `ETag` and CORS open to every origin.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder, ResponseError};

use crate::app::AppState;
use crate::authlete::AuthleteClient;
use crate::cache::{Document, Served};
use crate::http::RequestId;

pub async fn discovery(
    req: HttpRequest,
    state: web::Data<AppState>,
    authlete: web::Data<AuthleteClient>,
    request_id: RequestId,
) -> HttpResponse {
    serve(Document::Discovery, &req, &state, &authlete, &request_id).await
}

pub async fn jwks(
    req: HttpRequest,
    state: web::Data<AppState>,
    authlete: web::Data<AuthleteClient>,
    request_id: RequestId,
) -> HttpResponse {
    serve(Document::Jwks, &req, &state, &authlete, &request_id).await
}

/// `OPTIONS`: any origin may read the metadata.
pub async fn preflight() -> HttpResponse {
    let mut builder = HttpResponse::NoContent();
    cors(&mut builder);
    builder
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, HEAD"))
        .insert_header((header::ACCESS_CONTROL_MAX_AGE, "86400"))
        .finish()
}

async fn serve(
    document: Document,
    req: &HttpRequest,
    state: &AppState,
    authlete: &AuthleteClient,
    request_id: &RequestId,
) -> HttpResponse {
    let served = match state
        .metadata
        .get(document, authlete, request_id.as_str())
        .await
    {
        Ok(served) => served,
        Err(error) => {
            let mut response = error.error_response();
            response.headers_mut().insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
            return response;
        }
    };
    let max_age = if served.stale {
        0
    } else {
        state.metadata.ttl_secs(document)
    };
    let not_modified = if_none_match(req, &served);
    let mut builder = HttpResponseBuilder::new(if not_modified {
        StatusCode::NOT_MODIFIED
    } else {
        StatusCode::OK
    });
    cors(&mut builder);
    builder
        .insert_header((header::CACHE_CONTROL, format!("public, max-age={max_age}")))
        .insert_header((header::ETAG, served.document.etag.clone()));
    if not_modified {
        return builder.finish();
    }
    builder
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .body(served.document.body.clone())
}

fn cors(builder: &mut HttpResponseBuilder) {
    builder
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .insert_header((header::ACCESS_CONTROL_EXPOSE_HEADERS, "ETag"));
}

/// True when one of the client's entity tags matches (weak comparison, RFC 9110 §13.1.2).
fn if_none_match(req: &HttpRequest, served: &Served) -> bool {
    let ours = served.document.etag.as_str();
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == ours)
}
