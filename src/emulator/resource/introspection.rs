//! `/auth/introspection` (for resource servers: errors as `WWW-Authenticate` values) and
//! `/auth/introspection/standard` (an RFC 7662 response body).

use actix_web::HttpResponse;
use serde_json::{json, Map, Value};

use super::{check_binding, usable, Api, Unusable};
use crate::emulator::codes;
use crate::emulator::envelope::{read_parameters, Envelope};
use crate::emulator::params::Body;
use crate::emulator::state::Emulator;
use crate::emulator::store::TokenRecord;

pub(crate) fn handle(state: &Emulator, body: &Body) -> HttpResponse {
    if let Some(name) = body.repeated(&["token", "subject", "dpop", "htm", "htu"]) {
        let envelope = Envelope::bearer(codes::A166304, &[name], "BAD_REQUEST", "invalid_request");
        return primitives(envelope, false, false).ok();
    }
    let token = body.string("token");
    let record = match usable(state, token.as_deref()) {
        Ok(record) => record,
        Err(why) => {
            let (action, error, code) = why.describe(Api::Introspection);
            let envelope = Envelope::bearer(code, &[], action, error);
            let existent = matches!(why, Unusable::Expired(_));
            return primitives(envelope, existent, false).ok();
        }
    };
    if let Err(envelope) = check_binding(state, body, &record, Api::Introspection) {
        return primitives(envelope, true, false).ok();
    }
    if let Some(required) = body.list("scopes") {
        if let Some(missing) = required.iter().find(|s| !record.scopes.contains(s)) {
            let envelope = Envelope::bearer(
                codes::A064302,
                &[missing],
                "FORBIDDEN",
                "insufficient_scope",
            );
            return primitives(envelope, true, true).ok();
        }
    }
    if let Some(subject) = body.string("subject") {
        if record.subject.as_deref() != Some(subject.as_str()) {
            let envelope = Envelope::bearer(codes::A066302, &[], "FORBIDDEN", "invalid_request");
            return primitives(envelope, true, true).ok();
        }
    }
    let alias = state
        .clients
        .by_id(record.client_id)
        .map(|c| c.alias.clone());
    Envelope::new(codes::A056001, &[])
        .action("OK")
        .set("clientId", record.client_id)
        .set("clientIdAlias", alias)
        .set("clientIdAliasUsed", record.alias_used)
        .set("subject", record.subject.clone())
        .set("scopes", record.scopes.clone())
        .set("expiresAt", record.access_expires_ms)
        .set("existent", true)
        .set("usable", true)
        .set("sufficient", true)
        .set("refreshable", record.refresh_token.is_some())
        .set("consentedClaims", record.consented_claims.clone())
        .set("grantType", record.grant_type)
        .set("acr", record.acr.clone())
        .set("authTime", record.auth_time)
        .ok()
}

fn primitives(envelope: Envelope, existent: bool, usable: bool) -> Envelope {
    envelope
        .set("existent", existent)
        .set("usable", usable)
        .set("sufficient", false)
        .set("refreshable", false)
        .set("expiresAt", 0)
        .set("clientId", 0)
        .set("clientIdAliasUsed", false)
        .set("authTime", 0)
}

/// The RFC 7662 request parameters that may appear once only.
const STANDARD_SINGLE_VALUED: &[&str] = &["token", "token_type_hint"];

pub(crate) fn standard(state: &Emulator, body: &Body) -> HttpResponse {
    let refused =
        |code, args: &[&str]| Envelope::oauth(code, args, "BAD_REQUEST", "invalid_request").ok();
    let codes = [codes::A145201, codes::A145202, codes::A145301];
    let params = match read_parameters(body, codes) {
        Ok(params) => params,
        Err(refusal) => return refusal.ok(),
    };
    if let Some(name) = params.repeated(STANDARD_SINGLE_VALUED) {
        return refused(codes::A166304, &[name]);
    }
    let Some(token) = params.get("token") else {
        return refused(codes::A145302, &[]);
    };
    let now = state.now_ms();
    let content = {
        let store = state.store();
        let as_access = store.access(token).filter(|r| now < r.access_expires_ms);
        let as_refresh = store.refresh(token).filter(|r| now < r.refresh_expires_ms);
        match (as_access, as_refresh) {
            (Some(r), _) => {
                let token_type = if r.jkt.is_some() { "DPoP" } else { "Bearer" };
                let token = active(state, r, r.access_expires_ms, token_type);
                (token, "access_token")
            }
            (None, Some(r)) => (
                active(state, r, r.refresh_expires_ms, "refresh_token"),
                "refresh_token",
            ),
            (None, None) => (json!({"active": false}), "null"),
        }
    };
    let (content, kind) = content;
    let is_active = if kind == "null" { "false" } else { "true" };
    Envelope::new(codes::A145001, &[kind, is_active])
        .action("OK")
        .content(content.to_string())
        .ok()
}

fn active(state: &Emulator, r: &TokenRecord, expires_ms: u64, token_type: &str) -> Value {
    let mut map = Map::new();
    map.insert("active".into(), true.into());
    if !r.scopes.is_empty() {
        map.insert("scope".into(), r.scopes.join(" ").into());
    }
    map.insert("client_id".into(), r.client_ident.clone().into());
    if let Some(subject) = &r.subject {
        map.insert("sub".into(), subject.clone().into());
    }
    map.insert("exp".into(), (expires_ms / 1000).into());
    map.insert("iat".into(), r.issued_at_secs.into());
    map.insert("iss".into(), state.issuer.clone().into());
    map.insert("token_type".into(), token_type.into());
    if let Some(jkt) = &r.jkt {
        // RFC 9449 §6.2: the key the token is bound to.
        map.insert("cnf".into(), json!({ "jkt": jkt }));
    }
    Value::Object(map)
}
