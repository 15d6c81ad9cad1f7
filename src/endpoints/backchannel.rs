//! `POST /backchannel/authentication` → Authlete `/backchannel/authentication` (SPEC §3.1).

use actix_web::{web, HttpRequest, HttpResponse};

use super::client_form;
use crate::actions::{respond, ExtraHeaders};
use crate::app::AppState;
use crate::authlete::dto::{BackchannelResponse, ParametersRequest};
use crate::authlete::{Action, Api, AuthleteClient};
use crate::ciba::identify::Identification;
use crate::directory::DirectoryClient;
use crate::error::GatewayError;
use crate::http::RequestId;

pub async fn backchannel_authentication(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    authlete: web::Data<AuthleteClient>,
    directory: web::Data<DirectoryClient>,
    request_id: RequestId,
) -> Result<HttpResponse, GatewayError> {
    let (credentials, form) = client_form(&req, payload, &state).await?;
    let request = ParametersRequest {
        parameters: form.raw,
        credentials,
    };
    let response: BackchannelResponse = authlete
        .call(
            Api::BackchannelAuthentication,
            &request,
            request_id.as_str(),
        )
        .await?;
    if response.action == Action::UserIdentification {
        return Identification {
            ciba: &state.ciba,
            authlete: &authlete,
            directory: &directory,
            request_id: request_id.as_str(),
            response,
        }
        .run()
        .await;
    }
    let extra = ExtraHeaders {
        dpop_nonce: None,
        attestation_challenge: response.attestation_challenge.as_deref(),
    };
    respond(
        Api::BackchannelAuthentication,
        &response.action,
        response.response_content.as_deref(),
        &extra,
        state.realm(),
    )
}
