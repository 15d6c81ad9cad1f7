//! `/auth/userinfo` (which claims to fetch for whom) and `/auth/userinfo/issue` (the userinfo
//! response built from the claims the authorization server found).

use actix_web::HttpResponse;
use serde_json::{Map, Value};

use super::{check_binding, usable, Api};
use crate::emulator::codes;
use crate::emulator::envelope::Envelope;
use crate::emulator::params::Body;
use crate::emulator::scopes;
use crate::emulator::state::Emulator;
use crate::emulator::store::TokenRecord;

/// A token that may be used at the userinfo endpoint, or the error envelope. `/auth/userinfo`
/// checks a DPoP-bound token's proof; `/auth/userinfo/issue` follows it with the same token.
fn check(state: &Emulator, body: &Body, proof_checked: bool) -> Result<TokenRecord, Envelope> {
    if let Some(name) = body.repeated(&["token", "claims", "sub", "dpop", "htm", "htu"]) {
        return Err(Envelope::bearer(
            codes::A166304,
            &[name],
            "BAD_REQUEST",
            "invalid_request",
        ));
    }
    let token = body.string("token");
    let record = usable(state, token.as_deref()).map_err(|why| {
        let (action, error, code) = why.describe(Api::Userinfo);
        Envelope::bearer(code, &[], action, error)
    })?;
    if proof_checked {
        check_binding(state, body, &record, Api::Userinfo)?;
    }
    if !record.scopes.iter().any(|s| s == "openid") {
        return Err(Envelope::bearer(
            codes::A093304,
            &[],
            "FORBIDDEN",
            "insufficient_scope",
        ));
    }
    if record.subject.is_none() {
        return Err(Envelope::bearer(
            codes::A093305,
            &[],
            "FORBIDDEN",
            "invalid_token",
        ));
    }
    Ok(record)
}

pub(crate) fn handle(state: &Emulator, body: &Body) -> HttpResponse {
    let record = match check(state, body, true) {
        Ok(record) => record,
        Err(envelope) => {
            return envelope
                .set("clientId", 0)
                .set("clientIdAliasUsed", false)
                .ok()
        }
    };
    let claims = scopes::claim_names(&record.scopes);
    let alias = state
        .clients
        .by_id(record.client_id)
        .map(|c| c.alias.clone());
    Envelope::new(codes::A091001, &[])
        .action("OK")
        .set("subject", record.subject.clone())
        .set("claims", (!claims.is_empty()).then_some(claims))
        .set("scopes", record.scopes.clone())
        .set("clientId", record.client_id)
        .set("clientIdAlias", alias)
        .set("clientIdAliasUsed", record.alias_used)
        .set("consentedClaims", record.consented_claims.clone())
        .set("token", record.access_token.clone())
        .ok()
}

pub(crate) fn issue(state: &Emulator, body: &Body) -> HttpResponse {
    let record = match check(state, body, false) {
        Ok(record) => record,
        Err(envelope) => return envelope.ok(),
    };
    let Ok(claims) = body.json_text_object("claims") else {
        return Envelope::bearer(codes::A094201, &[], "BAD_REQUEST", "invalid_request").ok();
    };
    let mut content = Map::new();
    let sub = body
        .string("sub")
        .or(record.subject.clone())
        .unwrap_or_default();
    content.insert("sub".into(), sub.into());
    for (name, value) in claims.unwrap_or_default() {
        if name != "sub" {
            content.insert(name, value);
        }
    }
    Envelope::new(codes::A096001, &[])
        .action("JSON")
        .content(Value::Object(content).to_string())
        .ok()
}
