//! `POST /revocation` (RFC 7009) → Authlete `/auth/revocation` (SPEC §3.4); the client
//! authenticates as at the token endpoint.

use actix_web::{web, HttpRequest, HttpResponse};

use super::client_form;
use crate::actions::{respond, ExtraHeaders};
use crate::app::AppState;
use crate::authlete::dto::{ParametersRequest, PassThroughResponse};
use crate::authlete::{Api, AuthleteClient};
use crate::error::GatewayError;
use crate::http::RequestId;

pub async fn revocation(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    authlete: web::Data<AuthleteClient>,
    request_id: RequestId,
) -> Result<HttpResponse, GatewayError> {
    let (credentials, form) = client_form(&req, payload, &state).await?;
    let request = ParametersRequest {
        parameters: form.raw,
        credentials,
    };
    let response: PassThroughResponse = authlete
        .call(Api::Revocation, &request, request_id.as_str())
        .await?;
    let extra = ExtraHeaders {
        dpop_nonce: response.dpop_nonce.as_deref(),
        attestation_challenge: response.attestation_challenge.as_deref(),
    };
    respond(
        Api::Revocation,
        &response.action,
        response.response_content.as_deref(),
        &extra,
        state.realm(),
    )
}
