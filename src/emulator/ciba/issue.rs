//! `/backchannel/authentication/issue`: turns a ticket into an `auth_req_id`, once.

use actix_web::HttpResponse;
use serde_json::json;

use crate::config::DeliveryMode;
use crate::emulator::codes::{self, Code};
use crate::emulator::envelope::Envelope;
use crate::emulator::params::Body;
use crate::emulator::state::{random_token, Emulator};
use crate::emulator::store::Stage;

pub(crate) fn handle(state: &Emulator, body: &Body) -> HttpResponse {
    let Some(ticket) = body.string("ticket") else {
        return invalid(codes::A182201);
    };
    let now = state.now_ms();
    let mut store = state.store();
    let Some(record) = store.bc.get_mut(&ticket) else {
        return invalid(codes::A181201);
    };
    if now >= record.expires_at_ms {
        return invalid(codes::A181203);
    }
    match record.stage {
        Stage::Created => {}
        Stage::Issued => return invalid(codes::A181205),
        Stage::Completed(_) | Stage::Minting => return invalid(codes::A181204),
    }
    let auth_req_id = random_token();
    // The auth_req_id lives as long as the request was granted, counted from now.
    record.expires_at_ms = now + record.lifetime_secs * 1000;
    record.stage = Stage::Issued;
    record.auth_req_id = Some(auth_req_id.clone());
    let expires_in = record.lifetime_secs;
    let mode = record.mode;
    store
        .tickets_by_auth_req_id
        .insert(auth_req_id.clone(), ticket);
    drop(store);
    // CIBA §7.3: `interval` is for poll and ping only.
    let (content, interval) = if mode == DeliveryMode::Push {
        (
            json!({"auth_req_id": auth_req_id, "expires_in": expires_in}),
            0,
        )
    } else {
        let interval = state.settings.polling_interval.as_secs();
        let content =
            json!({"auth_req_id": auth_req_id, "interval": interval, "expires_in": expires_in});
        (content, interval)
    };
    Envelope::new(codes::A183001, &[])
        .action("OK")
        .content(content.to_string())
        .set("authReqId", auth_req_id)
        .set("expiresIn", expires_in)
        .set("interval", interval)
        .ok()
}

fn invalid(code: Code) -> HttpResponse {
    Envelope::new(code, &[])
        .action("INVALID_TICKET")
        .set("expiresIn", 0)
        .set("interval", 0)
        .ok()
}
