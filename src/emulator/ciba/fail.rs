//! `/backchannel/authentication/fail`: builds the client's error response for a request the
//! authorization server rejected, and deletes the ticket.

use actix_web::HttpResponse;
use serde_json::{Map, Value};

use crate::emulator::codes;
use crate::emulator::envelope::{oauth_error, Envelope};
use crate::emulator::params::Body;
use crate::emulator::state::Emulator;

/// `reason` → (`error`, `action`); unknown or missing reasons count as `SERVER_ERROR`.
fn map_reason(reason: Option<&str>) -> (&'static str, &'static str) {
    match reason {
        Some("ACCESS_DENIED") => ("access_denied", "FORBIDDEN"),
        Some("EXPIRED_LOGIN_HINT_TOKEN") => ("expired_login_hint_token", "BAD_REQUEST"),
        Some("UNKNOWN_USER_ID") => ("unknown_user_id", "BAD_REQUEST"),
        Some("UNAUTHORIZED_CLIENT") => ("unauthorized_client", "BAD_REQUEST"),
        Some("MISSING_USER_CODE") => ("missing_user_code", "BAD_REQUEST"),
        Some("INVALID_USER_CODE") => ("invalid_user_code", "BAD_REQUEST"),
        Some("INVALID_BINDING_MESSAGE") => ("invalid_binding_message", "BAD_REQUEST"),
        Some("INVALID_TARGET") => ("invalid_target", "BAD_REQUEST"),
        _ => ("server_error", "INTERNAL_SERVER_ERROR"),
    }
}

pub(crate) fn handle(state: &Emulator, body: &Body) -> HttpResponse {
    // A missing or unknown ticket is the caller's mistake.
    let caller_error = |code| {
        let error = oauth_error("server_error", code, &[]);
        Envelope::new(code, &[])
            .action("INTERNAL_SERVER_ERROR")
            .content(error)
            .ok()
    };
    let Some(ticket) = body.string("ticket") else {
        return caller_error(codes::A186201);
    };
    {
        let mut store = state.store();
        if !store.bc.contains_key(&ticket) {
            return caller_error(codes::A186202);
        }
        store.remove_bc(&ticket);
    }
    let reason = body.string("reason");
    let (error, action) = map_reason(reason.as_deref());
    // Only what the caller gave: no generated description or URI here.
    let mut content = Map::new();
    content.insert("error".into(), error.into());
    if let Some(description) = body.string("errorDescription") {
        content.insert("error_description".into(), description.into());
    }
    if let Some(uri) = body.string("errorUri") {
        content.insert("error_uri".into(), uri.into());
    }
    Envelope::new(codes::A185001, &[])
        .action(action)
        .content(Value::Object(content).to_string())
        .ok()
}
