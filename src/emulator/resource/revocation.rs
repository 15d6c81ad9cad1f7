//! `/auth/revocation` (RFC 7009): the client authenticates and revokes one of its access or
//! refresh tokens (the pair goes together). Unknown tokens are not an error.

use actix_web::HttpResponse;

use crate::emulator::clients::Credentials;
use crate::emulator::codes;
use crate::emulator::envelope::Envelope;
use crate::emulator::params::{Body, Params};
use crate::emulator::state::Emulator;

pub(crate) fn handle(state: &Emulator, body: &Body) -> HttpResponse {
    let params = body
        .string("parameters")
        .and_then(|p| Params::parse(&p).ok())
        .unwrap_or_default();
    let creds = Credentials::presented(body, &params);
    let client = match state.clients.authenticate(&creds, true) {
        Ok(client) => client,
        Err(f) => {
            return Envelope::oauth(f.code, &f.args(), "INVALID_CLIENT", "invalid_client").ok()
        }
    };
    let Some(token) = params.get("token") else {
        return Envelope::oauth(codes::A114301, &[], "BAD_REQUEST", "invalid_request").ok();
    };
    let mut store = state.store();
    let owner = store
        .access(token)
        .or_else(|| store.refresh(token))
        .map(|r| r.client_id);
    match owner {
        None => Envelope::new(codes::A113002, &[]).action("OK").ok(),
        Some(owner) if owner != client.client.id => {
            Envelope::oauth(codes::A114302, &[], "BAD_REQUEST", "invalid_grant").ok()
        }
        Some(_) => {
            store.revoke(token);
            Envelope::new(codes::A113001, &[]).action("OK").ok()
        }
    }
}
