//! `/auth/token`: authenticates the client, checks the grant type against the service and the
//! client, and runs the CIBA, `refresh_token` or `client_credentials` grant.

mod ciba;
mod client_credentials;
mod refresh;

use actix_web::HttpResponse;

use super::clients::{grant_type_name, Authenticated, Credentials};
use super::codes::{self, Code};
use super::envelope::Envelope;
use super::mint::Minted;
use super::params::{Body, Params};
use super::state::Emulator;

const CIBA: &str = "urn:openid:params:grant-type:ciba";

/// The grant types of the emulated service.
pub(crate) const SUPPORTED_GRANT_TYPES: [&str; 3] = [CIBA, "refresh_token", "client_credentials"];

pub(crate) async fn handle(state: &Emulator, body: &Body) -> HttpResponse {
    let Some(params) = body
        .string("parameters")
        .and_then(|p| Params::parse(&p).ok())
    else {
        return bad_request(codes::A041301, &[], "invalid_request");
    };
    let creds = Credentials::presented(body, &params);
    let client = match state.clients.authenticate(&creds, true) {
        Ok(client) => client,
        Err(failure) => {
            return Envelope::oauth(
                failure.code,
                &failure.args(),
                "INVALID_CLIENT",
                "invalid_client",
            )
            .ok()
        }
    };
    let Some(grant_type) = params.get("grant_type") else {
        return bad_request(codes::A041301, &[], "invalid_request");
    };
    if !SUPPORTED_GRANT_TYPES.contains(&grant_type) {
        return bad_request(codes::A047101, &[grant_type], "unsupported_grant_type");
    }
    if !client.client.allows(&grant_type_name(grant_type)) {
        return bad_request(codes::A047302, &[grant_type], "unauthorized_client");
    }
    match grant_type {
        CIBA => ciba::handle(state, &client, &params).await,
        "refresh_token" => refresh::handle(state, &client, &params).await,
        _ => client_credentials::handle(state, &client, &params).await,
    }
}

/// `BAD_REQUEST` with an OAuth error generated from `code`.
fn bad_request(code: Code, args: &[&str], error: &str) -> HttpResponse {
    Envelope::oauth(code, args, "BAD_REQUEST", error).ok()
}

/// `OK` with the token response and the token fields; stores the tokens.
fn issued(
    state: &Emulator,
    client: &Authenticated<'_>,
    code: Code,
    grant_type: &str,
    minted: Minted,
) -> HttpResponse {
    let content = serde_json::Value::Object(minted.response_json()).to_string();
    let envelope = Envelope::new(code, &[])
        .action("OK")
        .content(content)
        .set("grantType", grant_type)
        .set("clientIdAlias", client.client.alias.clone())
        .set("clientAuthMethod", client.client.method.wire());
    let envelope = minted.describe(envelope);
    state.store().insert_tokens(minted.record);
    envelope.ok()
}

/// `INTERNAL_SERVER_ERROR` when minting failed.
fn mint_failed(error: &str) -> HttpResponse {
    Envelope::oauth(
        codes::A200101,
        &[error],
        "INTERNAL_SERVER_ERROR",
        "server_error",
    )
    .ok()
}
