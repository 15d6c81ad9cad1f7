//! `/auth/revocation` (RFC 7009): the client authenticates and revokes one of its access or
//! refresh tokens (the pair goes together). Unknown tokens are not an error.

use actix_web::HttpResponse;

use crate::emulator::clients::Credentials;
use crate::emulator::codes::{self, Code};
use crate::emulator::envelope::{read_parameters, Envelope};
use crate::emulator::params::Body;
use crate::emulator::state::Emulator;

/// The RFC 7009 request parameters that may appear once only, each with Authlete's code for
/// its repetition (A166304 when the catalogue has none of its own).
const SINGLE_VALUED: &[(&str, Code)] = &[
    ("token", codes::A115303),
    ("client_id", codes::A114303),
    ("client_secret", codes::A114310),
    ("token_type_hint", codes::A166304),
];

pub(crate) fn handle(state: &Emulator, body: &Body) -> HttpResponse {
    let refused =
        |code, args: &[&str]| Envelope::oauth(code, args, "BAD_REQUEST", "invalid_request").ok();
    let codes = [codes::A113201, codes::A113202, codes::A113301];
    let params = match read_parameters(body, codes) {
        Ok(params) => params,
        Err(refusal) => return refusal.ok(),
    };
    if let Some((name, code)) = SINGLE_VALUED.iter().find(|(n, _)| params.count(n) > 1) {
        return refused(*code, &[name]);
    }
    let creds = Credentials::presented(body, &params);
    let client = match state.clients.authenticate(&creds, true) {
        Ok(client) => client,
        Err(f) => {
            return Envelope::oauth(f.code, &f.args(), "INVALID_CLIENT", "invalid_client").ok()
        }
    };
    let Some(token) = params.get("token") else {
        let code = match params.count("token") {
            0 => codes::A115301,
            _ => codes::A115302,
        };
        return refused(code, &[]);
    };
    let mut store = state.store();
    let owner = store
        .access(token)
        .or_else(|| store.refresh(token))
        .map(|r| r.client_id);
    match owner {
        // RFC 7009 §2.2: an unknown token is answered as a revoked one.
        None => Envelope::new(codes::A113001, &[]).action("OK").ok(),
        Some(owner) if owner != client.client.id => {
            let id = client.client.id.to_string();
            Envelope::oauth(codes::A116301, &[&id], "BAD_REQUEST", "invalid_grant").ok()
        }
        Some(_) => {
            store.revoke(token);
            Envelope::new(codes::A113001, &[]).action("OK").ok()
        }
    }
}
