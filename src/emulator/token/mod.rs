//! `/auth/token`: authenticates the client, checks the grant type against the service and the
//! client, and runs the CIBA, `refresh_token` or `client_credentials` grant.

mod ciba;
mod client_credentials;
mod refresh;

use actix_web::HttpResponse;

use super::clients::{grant_type_name, Authenticated, Credentials};
use super::codes::{self, Code};
use super::dpop::{self, Expected, ProofError};
use super::envelope::{read_parameters, Envelope};
use super::mint::Minted;
use super::params::Body;
use super::state::Emulator;

const CIBA: &str = "urn:openid:params:grant-type:ciba";

/// The token request parameters every grant takes once only, each with Authlete's code for its
/// repetition; each grant checks its own (`auth_req_id`, `refresh_token`, `scope`).
const SINGLE_VALUED: &[(&str, Code)] = &[
    ("grant_type", codes::A049303),
    ("client_id", codes::A048303),
    ("client_secret", codes::A158301),
];

/// The grant types of the emulated service.
pub(crate) const SUPPORTED_GRANT_TYPES: [&str; 3] = [CIBA, "refresh_token", "client_credentials"];

pub(crate) async fn handle(state: &Emulator, body: &Body) -> HttpResponse {
    let codes = [codes::A047201, codes::A047202, codes::A047301];
    let params = match read_parameters(body, codes) {
        Ok(params) => params,
        Err(refusal) => return refusal.ok(),
    };
    if let Some((name, code)) = SINGLE_VALUED.iter().find(|(n, _)| params.count(n) > 1) {
        return bad_request(*code, &[name], "invalid_request");
    }
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
        let code = match params.count("grant_type") {
            0 => codes::A049301,
            _ => codes::A049302,
        };
        return bad_request(code, &[], "invalid_request");
    };
    if !SUPPORTED_GRANT_TYPES.contains(&grant_type) {
        return bad_request(codes::A047101, &[grant_type], "unsupported_grant_type");
    }
    if !client.client.allows(&grant_type_name(grant_type)) {
        return bad_request(codes::A047302, &[], "unauthorized_client");
    }
    let jkt = match proof_key(state, body) {
        Ok(jkt) => jkt,
        Err(why) => {
            let (code, args) = why.code(&dpop::TOKEN);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            return bad_request(code, &args, "invalid_dpop_proof");
        }
    };
    let jkt = jkt.as_deref();
    match grant_type {
        CIBA => ciba::handle(state, &client, &params, jkt).await,
        "refresh_token" => refresh::handle(state, &client, &params, jkt).await,
        _ => client_credentials::handle(state, &client, &params, jkt).await,
    }
}

/// The thumbprint of the DPoP proof's key, when the request carries a proof (`dpop`); `htm`
/// defaults to POST and `htu` to the service's token endpoint, as Authlete's do.
fn proof_key(state: &Emulator, body: &Body) -> Result<Option<String>, ProofError> {
    let Some(proof) = body.string("dpop") else {
        return Ok(None);
    };
    let htm = body.string("htm").unwrap_or_else(|| "POST".into());
    let htu = body
        .string("htu")
        .unwrap_or_else(|| state.endpoint("/token"));
    let expected = Expected {
        htm: &htm,
        htu: &htu,
        access_token: None,
    };
    dpop::verify(state, &proof, &expected).map(Some)
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

/// `INTERNAL_SERVER_ERROR` when minting (signing the ID token) failed; Authlete's message
/// carries no detail, so the cause is only logged.
fn mint_failed(error: &str) -> HttpResponse {
    log::warn!("emulator: minting tokens failed: {error}");
    Envelope::oauth(codes::A200102, &[], "INTERNAL_SERVER_ERROR", "server_error").ok()
}
