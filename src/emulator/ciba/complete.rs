//! `/backchannel/authentication/complete`: records the end-user's decision, once, after
//! `issue`. Poll answers `NO_ACTION`; ping a `{"auth_req_id"}` notification; push mints the
//! tokens now (or prepares the error) and answers with the notification body.

use actix_web::HttpResponse;
use serde_json::{json, Value};

use crate::config::{DeliveryMode, TransactionFailedError};
use crate::emulator::clients::mode_name;
use crate::emulator::codes::{self, Code};
use crate::emulator::envelope::{error_body, Envelope};
use crate::emulator::mint::{mint, Grant};
use crate::emulator::params::Body;
use crate::emulator::state::Emulator;
use crate::emulator::store::{Authorization, BcAuth, Outcome, Stage};

/// The validated request: the ticket and the outcome it reports.
struct Request {
    ticket: String,
    result: &'static str,
    outcome: Outcome,
    /// `scopes`, when given, replaces the requested scopes.
    scopes: Option<Vec<String>>,
}

fn read(state: &Emulator, body: &Body) -> Result<Request, Code> {
    let ticket = body.string("ticket").ok_or(codes::A196201)?;
    let result = match body.string("result").as_deref() {
        Some("AUTHORIZED") => "AUTHORIZED",
        Some("ACCESS_DENIED") => "ACCESS_DENIED",
        Some("TRANSACTION_FAILED") => "TRANSACTION_FAILED",
        _ => return Err(codes::A187201),
    };
    // The token fields of the request apply only to tokens minted now, i.e. in push mode.
    let push = state.store().bc.get(&ticket).map(|r| r.mode) == Some(DeliveryMode::Push);
    let outcome = if result == "AUTHORIZED" {
        Outcome::Authorized(Box::new(authorization(body, push)?))
    } else {
        let error = match (result, state.settings.transaction_failed_error) {
            ("ACCESS_DENIED", _) => "access_denied",
            (_, TransactionFailedError::ExpiredToken) => "expired_token",
            (_, TransactionFailedError::TransactionFailed) => "transaction_failed",
        };
        Outcome::Failed {
            result,
            error,
            description: body.string("errorDescription"),
            uri: body.string("errorUri"),
        }
    };
    Ok(Request {
        ticket,
        result,
        outcome,
        scopes: body.array("scopes").map_err(|_| codes::A001101)?,
    })
}

fn authorization(body: &Body, push: bool) -> Result<Authorization, Code> {
    let subject = body.string("subject").ok_or(codes::A188201)?;
    let idt_header_params = body
        .json_text_object("idtHeaderParams")
        .map_err(|_| codes::A256201)?;
    let auth_time = body
        .int("authTime")
        .map_err(|_| codes::A195201)?
        .unwrap_or(0);
    let duration = |key| {
        body.int(key)
            .ok()
            .flatten()
            .filter(|_| push)
            .unwrap_or(0)
            .max(0)
            .unsigned_abs()
    };
    Ok(Authorization {
        subject,
        sub: body.string("sub"),
        auth_time: u64::try_from(auth_time).map_err(|_| codes::A195201)?,
        acr: body.string("acr"),
        claims: body
            .json_text_object("claims")
            .map_err(|_| codes::A190201)?,
        scopes: Vec::new(),
        consented_claims: body.array("consentedClaims").map_err(|_| codes::A001101)?,
        access_token: body.string("accessToken").filter(|_| push),
        access_token_duration: duration("accessTokenDuration"),
        refresh_token_duration: duration("refreshTokenDuration"),
        aud_array: body.string("idTokenAudType").as_deref() == Some("array"),
        idt_header_params,
    })
}

pub(crate) async fn handle(state: &Emulator, body: &Body) -> HttpResponse {
    let request = match read(state, body) {
        Ok(request) => request,
        Err(code) => return server_error(code),
    };
    let record = match record_outcome(state, &request) {
        Ok(record) => record,
        Err(code) => return server_error(code),
    };
    let auth_req_id = record.auth_req_id.clone().unwrap_or_default();
    let mode = record.mode;
    let mode_lower = mode_name(mode).to_ascii_lowercase();
    let code = match request.outcome {
        Outcome::Authorized(_) => codes::A198001,
        Outcome::Failed { .. } => codes::A198002,
    };
    let args = [mode_lower.as_str(), request.result];
    let envelope = match mode {
        DeliveryMode::Poll => Envelope::new(code, &args).action("NO_ACTION"),
        DeliveryMode::Ping => Envelope::new(code, &args)
            .action("NOTIFICATION")
            .content(json!({"auth_req_id": auth_req_id}).to_string()),
        DeliveryMode::Push => push(state, &record, request.result).await,
    };
    echo(state, envelope, &record).ok()
}

/// Checks the ticket and stores the outcome; returns a copy of the record.
fn record_outcome(state: &Emulator, request: &Request) -> Result<BcAuth, Code> {
    let now = state.now_ms();
    let mut store = state.store();
    let record = store.bc.get_mut(&request.ticket).ok_or(codes::A196201)?;
    match record.stage {
        Stage::Issued => {}
        Stage::Created => return Err(codes::A196204),
        Stage::Completed(_) | Stage::Minting => return Err(codes::A196203),
    }
    if now >= record.expires_at_ms {
        return Err(codes::A196202);
    }
    let mut outcome = request.outcome.clone();
    if let Outcome::Authorized(authz) = &mut outcome {
        authz.scopes = request
            .scopes
            .clone()
            .unwrap_or_else(|| record.scopes.clone());
    }
    record.stage = Stage::Completed(outcome);
    Ok(record.clone())
}

/// Push: mint now (`A198003`) or prepare the error payload (`A198004`).
async fn push(state: &Emulator, record: &BcAuth, result: &str) -> Envelope {
    let auth_req_id = record.auth_req_id.clone().unwrap_or_default();
    let Stage::Completed(outcome) = &record.stage else {
        return Envelope::new(codes::A196201, &[]).action("SERVER_ERROR");
    };
    let authz = match outcome {
        Outcome::Authorized(authz) => authz,
        Outcome::Failed {
            error,
            description,
            uri,
            ..
        } => {
            let mut content = error_body(error, description.clone(), uri.clone());
            content.insert("auth_req_id".into(), auth_req_id.into());
            return Envelope::new(codes::A198004, &["push", result])
                .action("NOTIFICATION")
                .content(Value::Object(content).to_string());
        }
    };
    let Some(client) = state.clients.by_id(record.client_id).cloned() else {
        return Envelope::new(codes::A196201, &[]).action("SERVER_ERROR");
    };
    let grant = Grant {
        client,
        ident: record.client_ident.clone(),
        alias_used: record.alias_used,
        grant_type: "CIBA",
        scopes: authz.scopes.clone(),
        authorization: Some((**authz).clone()),
        auth_req_id: Some(auth_req_id.clone()),
        with_id_token: true,
        jkt: None,
    };
    match mint(state, grant).await {
        Ok(minted) => {
            let mut content = minted.response_json();
            content.insert("auth_req_id".into(), auth_req_id.into());
            let envelope = Envelope::new(codes::A198003, &["push", result])
                .action("NOTIFICATION")
                .content(Value::Object(content).to_string())
                .set("accessToken", minted.record.access_token.clone())
                .set("refreshToken", minted.record.refresh_token.clone())
                .set("idToken", minted.id_token.clone())
                .set("accessTokenDuration", minted.access_duration)
                .set("refreshTokenDuration", minted.refresh_duration)
                .set(
                    "idTokenDuration",
                    state.settings.id_token_lifetime.as_secs(),
                );
            state.store().insert_tokens(minted.record);
            envelope
        }
        Err(e) => {
            let content = json!({"error": "server_error", "auth_req_id": auth_req_id});
            Envelope::new(codes::A197101, &[&e])
                .action("NOTIFICATION")
                .content(content.to_string())
        }
    }
}

/// The fields every `complete` response echoes; durations are 0 unless push minted tokens.
fn echo(state: &Emulator, envelope: Envelope, record: &BcAuth) -> Envelope {
    let client = state.clients.by_id(record.client_id);
    envelope
        .set("clientId", record.client_id)
        .set("clientIdAlias", client.map(|c| c.alias.clone()))
        .set("clientIdAliasUsed", record.alias_used)
        .set("clientName", client.and_then(|c| c.name.clone()))
        .set("deliveryMode", mode_name(record.mode))
        .set(
            "clientNotificationEndpoint",
            client.and_then(|c| c.endpoint.clone()),
        )
        .set("clientNotificationToken", record.notification_token.clone())
        .set("authReqId", record.auth_req_id.clone())
        .set_default("accessTokenDuration", 0)
        .set_default("refreshTokenDuration", 0)
        .set_default("idTokenDuration", 0)
}

/// `SERVER_ERROR`; the path fills A001101 (a body of the wrong shape), other codes ignore it.
fn server_error(code: Code) -> HttpResponse {
    Envelope::new(code, &["/backchannel/authentication/complete"])
        .action("SERVER_ERROR")
        .set("accessTokenDuration", 0)
        .set("refreshTokenDuration", 0)
        .set("idTokenDuration", 0)
        .ok()
}
