//! The `client_credentials` grant: an access token without a resource owner.

use actix_web::HttpResponse;

use super::{bad_request, issued, mint_failed};
use crate::emulator::clients::Authenticated;
use crate::emulator::codes;
use crate::emulator::mint::{mint, Grant};
use crate::emulator::params::Params;
use crate::emulator::scopes;
use crate::emulator::state::Emulator;

pub(super) async fn handle(
    state: &Emulator,
    client: &Authenticated<'_>,
    params: &Params,
    jkt: Option<&str>,
) -> HttpResponse {
    if client.client.is_public() {
        return bad_request(codes::A052301, &[], "unauthorized_client");
    }
    if params.count("scope") > 1 {
        return bad_request(codes::A052302, &[], "invalid_request");
    }
    // OpenID scopes mean nothing without an end-user.
    let scopes = scopes::supported(params.get("scope").unwrap_or(""))
        .into_iter()
        .filter(|s| s != "openid")
        .collect();
    let grant = Grant {
        client: client.client.clone(),
        ident: client.ident.clone(),
        alias_used: client.alias_used,
        grant_type: "CLIENT_CREDENTIALS",
        scopes,
        authorization: None,
        auth_req_id: None,
        with_id_token: false,
        jkt: jkt.map(str::to_owned),
    };
    match mint(state, grant).await {
        Ok(minted) => issued(state, client, codes::A052001, "CLIENT_CREDENTIALS", minted),
        Err(e) => mint_failed(&e),
    }
}
