//! `POST /introspection` (RFC 7662) → Authlete `/auth/introspection/standard` (SPEC §3.4), for
//! the resource servers listed in `[[introspection.clients]]`.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::actions::{respond, ExtraHeaders};
use crate::app::AppState;
use crate::authlete::dto::{IntrospectionRequest, PassThroughResponse};
use crate::authlete::{Api, AuthleteClient};
use crate::error::GatewayError;
use crate::http::form::read_parameters;
use crate::http::RequestId;

pub async fn introspection(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    authlete: web::Data<AuthleteClient>,
    request_id: RequestId,
) -> Result<HttpResponse, GatewayError> {
    // Before reading the body: an unknown caller learns nothing and costs nothing.
    let caller = state.introspection.authenticate(&req)?;
    let form = read_parameters(&req, payload, state.settings.server.max_body_bytes).await?;
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let request = IntrospectionRequest {
        parameters: form.raw,
        http_accept_header: accept,
        rs_uri: caller.rs_uri.clone(),
    };
    let response: PassThroughResponse = authlete
        .call(Api::Introspection, &request, request_id.as_str())
        .await?;
    respond(
        Api::Introspection,
        &response.action,
        response.response_content.as_deref(),
        &ExtraHeaders::default(),
        state.realm(),
    )
}
