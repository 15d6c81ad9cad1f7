//! The common HTTP rules of SPEC §3: request ids and access logs, form bodies, client
//! credentials, proxies, and the 404/405 answers.

pub mod authorization;
pub mod bearer;
pub mod callers;
pub mod client_cert;
pub mod cors;
pub mod credentials;
pub mod form;
pub mod host;
pub mod middleware;
pub mod peer;

pub use credentials::{CertHeader, CredentialRules};
pub use form::FormBody;
pub use middleware::RequestId;

use actix_web::{web, HttpRequest};

use crate::authlete::dto::ClientCredentials;
use crate::error::GatewayError;
use crate::state::AppState;

/// The client's credentials and form body, for the endpoints that forward both to Authlete
/// (backchannel authentication, token, revocation). Credentials are checked first, so a
/// malformed `Authorization` is refused without reading the body.
pub async fn client_form(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<(ClientCredentials, FormBody), GatewayError> {
    let credentials = state.credentials.collect(req)?;
    let form = form::read_form(req, payload, state.settings.server.max_body_bytes).await?;
    Ok((credentials, form))
}
