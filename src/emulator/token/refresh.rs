//! The `refresh_token` grant: rotates the token pair, optionally narrowing its scopes.

use actix_web::HttpResponse;

use super::{bad_request, issued, mint_failed};
use crate::emulator::clients::Authenticated;
use crate::emulator::codes::{self, Code};
use crate::emulator::mint::{mint, Grant};
use crate::emulator::params::Params;
use crate::emulator::state::Emulator;
use crate::emulator::store::{Authorization, TokenRecord};

pub(super) async fn handle(
    state: &Emulator,
    client: &Authenticated<'_>,
    params: &Params,
    jkt: Option<&str>,
) -> HttpResponse {
    if params.count("refresh_token") > 1 {
        return bad_request(codes::A053303, &[], "invalid_request");
    }
    if params.count("scope") > 1 {
        return bad_request(codes::A053304, &[], "invalid_request");
    }
    let Some(token) = params.get("refresh_token") else {
        let code = match params.count("refresh_token") {
            0 => codes::A053301,
            _ => codes::A053302,
        };
        return bad_request(code, &[], "invalid_request");
    };
    let old = match current(state, client, token) {
        Ok(record) => record,
        Err(code) => return bad_request(code, &[], "invalid_grant"),
    };
    // RFC 9449 §5: a refresh token bound to a key needs a proof made with that key.
    if old.jkt.is_some() && old.jkt.as_deref() != jkt {
        return bad_request(codes::A053311, &[], "invalid_dpop_proof");
    }
    let scopes = match params.get("scope") {
        None => old.scopes.clone(),
        Some(requested) => {
            let requested: Vec<String> = requested.split_whitespace().map(str::to_owned).collect();
            if !requested.iter().all(|s| old.scopes.contains(s)) {
                return bad_request(codes::A053309, &[], "invalid_scope");
            }
            requested
        }
    };
    let authorization = carried_over(&old, scopes.clone());
    let grant = Grant {
        client: client.client.clone(),
        ident: client.ident.clone(),
        alias_used: client.alias_used,
        grant_type: old.grant_type,
        scopes,
        authorization: Some(authorization),
        auth_req_id: None,
        // Like Authlete's default, a refresh does not re-issue the ID token.
        with_id_token: false,
        // A bound refresh token stays bound to its key (checked above); an unbound one is
        // bound now if the request carries a proof.
        jkt: old.jkt.clone().or(jkt.map(str::to_owned)),
    };
    match mint(state, grant).await {
        Ok(minted) => {
            state.store().revoke(token);
            issued(state, client, codes::A053001, "REFRESH_TOKEN", minted)
        }
        Err(e) => mint_failed(&e),
    }
}

fn current(state: &Emulator, client: &Authenticated<'_>, token: &str) -> Result<TokenRecord, Code> {
    let store = state.store();
    let record = store.refresh(token).ok_or(codes::A053305)?;
    if record.client_id != client.client.id {
        return Err(codes::A053307);
    }
    if state.now_ms() >= record.refresh_expires_ms {
        return Err(codes::A053308);
    }
    Ok(record.clone())
}

/// The grant of the old pair, carried over to the new one.
fn carried_over(old: &TokenRecord, scopes: Vec<String>) -> Authorization {
    Authorization {
        subject: old.subject.clone().unwrap_or_default(),
        sub: None,
        auth_time: old.auth_time,
        acr: old.acr.clone(),
        claims: None,
        scopes,
        consented_claims: old.consented_claims.clone(),
        access_token: None,
        access_token_duration: 0,
        refresh_token_duration: 0,
        aud_array: false,
        idt_header_params: None,
    }
}
