//! The CIBA grant (`urn:openid:params:grant-type:ciba`): every error of the token endpoint's
//! CIBA table, and a single winner when the same `auth_req_id` is exchanged concurrently.

use actix_web::HttpResponse;

use super::{bad_request, issued, mint_failed};
use crate::config::DeliveryMode;
use crate::emulator::clients::Authenticated;
use crate::emulator::codes::{self, Code};
use crate::emulator::envelope::{error_body, error_uri, Envelope};
use crate::emulator::mint::{mint, Grant};
use crate::emulator::params::Params;
use crate::emulator::state::Emulator;
use crate::emulator::store::{Authorization, Outcome, Stage};

/// What the token request may do with the record, decided under the lock.
enum Claim {
    Mint {
        ticket: String,
        authorization: Box<Authorization>,
    },
    Failed {
        result: &'static str,
        error: &'static str,
        description: Option<String>,
        uri: Option<String>,
    },
}

type Refusal = (Code, &'static str);

pub(super) async fn handle(
    state: &Emulator,
    client: &Authenticated<'_>,
    params: &Params,
    jkt: Option<&str>,
) -> HttpResponse {
    let id = match params.count("auth_req_id") {
        0 => return bad_request(codes::A200301, &[], "invalid_request"),
        1 => match params.get("auth_req_id") {
            Some(id) => id,
            None => return bad_request(codes::A200302, &[], "invalid_request"),
        },
        _ => return bad_request(codes::A200303, &[], "invalid_request"),
    };
    let claim = match claim(state, client, id) {
        Ok(claim) => claim,
        Err((code, error)) => return bad_request(code, &[], error),
    };
    match claim {
        Claim::Failed {
            result,
            error,
            description,
            uri,
        } => {
            let description = description.or_else(|| Some(codes::A200001.message(&[result])));
            let uri = uri.or_else(|| Some(error_uri(codes::A200001)));
            let content = error_body(error, description, uri);
            Envelope::new(codes::A200001, &[result])
                .action("BAD_REQUEST")
                .content(serde_json::Value::Object(content).to_string())
                .ok()
        }
        Claim::Mint {
            ticket,
            authorization,
        } => {
            // The ID token's audience is the identifier the client uses for this exchange.
            let grant = Grant {
                client: client.client.clone(),
                ident: client.ident.clone(),
                alias_used: client.alias_used,
                grant_type: "CIBA",
                scopes: authorization.scopes.clone(),
                authorization: Some(*authorization),
                auth_req_id: None,
                with_id_token: true,
                jkt: jkt.map(str::to_owned),
            };
            let minted = mint(state, grant).await;
            state.store().remove_bc(&ticket);
            match minted {
                Ok(minted) => issued(state, client, codes::A200002, "CIBA", minted),
                Err(e) => mint_failed(&e),
            }
        }
    }
}

/// Checks the `auth_req_id` in Authlete's order and, for a decided request, takes it: a failed
/// one is deleted at once, an authorized one is marked `Minting` so that a concurrent
/// exchange loses with A200310.
fn claim(state: &Emulator, client: &Authenticated<'_>, id: &str) -> Result<Claim, Refusal> {
    let now = state.now_ms();
    let mut store = state.store();
    let (ticket, record) = store
        .by_auth_req_id(id)
        .ok_or((codes::A200304, "invalid_grant"))?;
    if record.client_id != client.client.id {
        return Err((codes::A200305, "invalid_grant"));
    }
    if record.mode == DeliveryMode::Push {
        return Err((codes::A200306, "unauthorized_client"));
    }
    if now >= record.expires_at_ms {
        return Err((codes::A200307, "expired_token"));
    }
    let claim = match &record.stage {
        Stage::Created | Stage::Issued => return Err((codes::A200308, "authorization_pending")),
        Stage::Minting => return Err((codes::A200310, "invalid_grant")),
        Stage::Completed(Outcome::Failed {
            result,
            error,
            description,
            uri,
        }) => Claim::Failed {
            result,
            error,
            description: description.clone(),
            uri: uri.clone(),
        },
        Stage::Completed(Outcome::Authorized(authorization)) => Claim::Mint {
            ticket: ticket.clone(),
            authorization: authorization.clone(),
        },
    };
    match claim {
        Claim::Failed { .. } => store.remove_bc(&ticket),
        Claim::Mint { .. } => record.stage = Stage::Minting,
    }
    Ok(claim)
}
