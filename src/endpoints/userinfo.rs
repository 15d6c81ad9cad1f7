//! `GET|POST /userinfo` → Authlete `/auth/userinfo`, the user directory, then
//! `/auth/userinfo/issue` (SPEC §3.4), with CORS for the configured origins.

use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde_json::{Map, Value};

use crate::actions::{respond, ExtraHeaders};
use crate::app::AppState;
use crate::authlete::dto::{
    PassThroughResponse, UserinfoIssueRequest, UserinfoRequest, UserinfoResponse,
};
use crate::authlete::{Action, Api, AuthleteClient};
use crate::directory::{DirectoryClient, Query};
use crate::error::GatewayError;
use crate::http::bearer::access_token;
use crate::http::headers::dpop;
use crate::http::{cors, RequestId};

pub async fn userinfo(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    authlete: web::Data<AuthleteClient>,
    directory: web::Data<DirectoryClient>,
    request_id: RequestId,
) -> HttpResponse {
    let outcome = answer(&req, payload, &state, &authlete, &directory, &request_id).await;
    let mut response = outcome.unwrap_or_else(|error| error.error_response());
    cors::decorate(
        &mut response,
        &req,
        &state.settings.server.cors_allowed_origins,
    );
    response
}

/// `OPTIONS`: a preflight from an allowed origin gets 204; anything else is a wrong method.
pub async fn preflight(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, GatewayError> {
    cors::preflight(&req, &state.settings.server.cors_allowed_origins)
        .ok_or(GatewayError::MethodNotAllowed { allow: "GET, POST" })
}

async fn answer(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    authlete: &AuthleteClient,
    directory: &DirectoryClient,
    request_id: &RequestId,
) -> Result<HttpResponse, GatewayError> {
    let proof = dpop(req)?;
    let Some(token) = access_token(req, payload, state.settings.server.max_body_bytes).await?
    else {
        return Err(GatewayError::Unauthenticated {
            challenge: format!("Bearer realm=\"{}\"", state.realm()),
        });
    };
    let (client_certificate, _) = state.credentials.certificate(req)?;
    let request = UserinfoRequest {
        token: token.clone(),
        client_certificate,
        htm: proof.as_ref().map(|_| req.method().as_str().to_owned()),
        dpop: proof,
    };
    let id = request_id.as_str();
    let found: UserinfoResponse = authlete.call(Api::Userinfo, &request, id).await?;
    if found.action != Action::Ok {
        let extra = ExtraHeaders {
            dpop_nonce: found.dpop_nonce.as_deref(),
            attestation_challenge: None,
        };
        let content = found.response_content.as_deref();
        return respond(Api::Userinfo, &found.action, content, &extra, state.realm());
    }
    let claims = claims(state, directory, &found, id).await?;
    let issue = UserinfoIssueRequest {
        token,
        claims: claims.map(|c| Value::Object(c).to_string()),
    };
    let issued: PassThroughResponse = authlete.call(Api::UserinfoIssue, &issue, id).await?;
    let extra = ExtraHeaders {
        dpop_nonce: issued.dpop_nonce.as_deref().or(found.dpop_nonce.as_deref()),
        attestation_challenge: None,
    };
    let content = issued.response_content.as_deref();
    respond(
        Api::UserinfoIssue,
        &issued.action,
        content,
        &extra,
        state.realm(),
    )
}

/// The claims Authlete asks for, from the directory's entry for the token's subject; `None`
/// when it asks for none (no directory call then).
async fn claims(
    state: &AppState,
    directory: &DirectoryClient,
    found: &UserinfoResponse,
    request_id: &str,
) -> Result<Option<Map<String, Value>>, GatewayError> {
    let wanted = found.claims.as_deref().unwrap_or_default();
    if wanted.is_empty() {
        return Ok(None);
    }
    let Some(subject) = found.subject.as_deref() else {
        log::error!(
            request_id = request_id; "userinfo OK without a subject"
        );
        return Err(GatewayError::Internal);
    };
    let user = state
        .ciba
        .directory
        .lookup(Query::subject(subject, request_id), directory)
        .await
        .map_err(|e| {
            log::error!(
                request_id = request_id; "the token's subject has no usable directory entry ({e:?})"
            );
            GatewayError::Internal
        })?;
    let released = user
        .claims
        .into_iter()
        .filter(|(name, _)| wanted.iter().any(|w| w == name))
        .collect();
    Ok(Some(released))
}
