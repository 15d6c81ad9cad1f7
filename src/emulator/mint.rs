//! Minting: access and refresh tokens, the RS256 ID token, the token-response JSON and the
//! token fields of the API response. Shared by the token grants and push-mode `complete`.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::clients::Client;
use super::envelope::Envelope;
use super::keys::{half_hash, SigningKey};
use super::state::{random_token, Emulator};
use super::store::{Authorization, TokenRecord};

/// What to mint tokens for.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub client: Client,
    pub ident: String,
    pub alias_used: bool,
    /// `GrantType` enum name.
    pub grant_type: &'static str,
    pub scopes: Vec<String>,
    /// The resource owner; `None` for client credentials.
    pub authorization: Option<Authorization>,
    /// Push mode: the ID token carries `urn:openid:params:jwt:claim:auth_req_id` and hashes.
    pub auth_req_id: Option<String>,
    /// Whether to issue an ID token (also needs `openid` and a resource owner).
    pub with_id_token: bool,
    /// DPoP: the thumbprint of the key the tokens are bound to.
    pub jkt: Option<String>,
}

/// The minted tokens.
#[derive(Debug)]
pub(crate) struct Minted {
    pub record: TokenRecord,
    pub id_token: Option<String>,
    pub access_duration: u64,
    pub refresh_duration: u64,
}

impl Minted {
    /// The token response a client receives (RFC 6749 5.1 plus `id_token`).
    pub fn response_json(&self) -> Map<String, Value> {
        let r = &self.record;
        let mut map = Map::new();
        map.insert("access_token".into(), r.access_token.clone().into());
        let token_type = if r.jkt.is_some() { "DPoP" } else { "Bearer" };
        map.insert("token_type".into(), token_type.into());
        map.insert("expires_in".into(), self.access_duration.into());
        if !r.scopes.is_empty() {
            map.insert("scope".into(), r.scopes.join(" ").into());
        }
        if let Some(refresh) = &r.refresh_token {
            map.insert("refresh_token".into(), refresh.clone().into());
        }
        if let Some(id_token) = &self.id_token {
            map.insert("id_token".into(), id_token.clone().into());
        }
        map
    }

    /// Adds the token fields of `TokenResponse` to `envelope`.
    pub fn describe(&self, envelope: Envelope) -> Envelope {
        let r = &self.record;
        envelope
            .set("accessToken", r.access_token.clone())
            .set("accessTokenExpiresAt", r.access_expires_ms)
            .set("accessTokenDuration", self.access_duration)
            .set("refreshToken", r.refresh_token.clone())
            .set(
                "refreshTokenExpiresAt",
                r.refresh_token.as_ref().map(|_| r.refresh_expires_ms),
            )
            .set("refreshTokenDuration", self.refresh_duration)
            .set("idToken", self.id_token.clone())
            .set("clientId", r.client_id)
            .set("clientIdAliasUsed", r.alias_used)
            .set("subject", r.subject.clone())
            .set("scopes", r.scopes.clone())
    }
}

/// Mints tokens; the ID token is signed on a blocking thread (RSA is slow in debug builds).
pub(crate) async fn mint(state: &Emulator, grant: Grant) -> Result<Minted, String> {
    let now_ms = state.now_ms();
    let now = now_ms / 1000;
    let authz = grant.authorization.as_ref();
    let duration = |given: Option<u64>, default: u64| given.filter(|d| *d > 0).unwrap_or(default);
    let access_duration = duration(
        authz.map(|a| a.access_token_duration),
        state.settings.access_token_lifetime.as_secs(),
    );
    let with_refresh = authz.is_some() && grant.client.allows("REFRESH_TOKEN");
    let refresh_duration = if with_refresh {
        duration(
            authz.map(|a| a.refresh_token_duration),
            state.settings.refresh_token_lifetime.as_secs(),
        )
    } else {
        0
    };
    let access_token = authz
        .and_then(|a| a.access_token.clone())
        .unwrap_or_else(random_token);
    let record = TokenRecord {
        access_token,
        access_expires_ms: now_ms + access_duration * 1000,
        refresh_token: with_refresh.then(random_token),
        refresh_expires_ms: now_ms + refresh_duration * 1000,
        client_id: grant.client.id,
        client_ident: grant.ident.clone(),
        alias_used: grant.alias_used,
        subject: authz.map(|a| a.subject.clone()),
        scopes: grant.scopes.clone(),
        grant_type: grant.grant_type,
        consented_claims: authz.and_then(|a| a.consented_claims.clone()),
        acr: authz.and_then(|a| a.acr.clone()),
        auth_time: authz.map_or(0, |a| a.auth_time),
        issued_at_secs: now,
        jkt: grant.jkt.clone(),
    };
    let id_token = match authz {
        Some(a) if grant.with_id_token && grant.scopes.iter().any(|s| s == "openid") => {
            let claims = id_token_claims(state, &grant, a, &record, now);
            let header = a.idt_header_params.clone().unwrap_or_default();
            Some(sign(state.key.clone(), claims, header).await?)
        }
        _ => None,
    };
    Ok(Minted {
        record,
        id_token,
        access_duration,
        refresh_duration,
    })
}

fn id_token_claims(
    state: &Emulator,
    grant: &Grant,
    a: &Authorization,
    record: &TokenRecord,
    now: u64,
) -> Value {
    let mut claims = a.claims.clone().unwrap_or_default();
    let aud = if a.aud_array {
        json!([grant.ident])
    } else {
        json!(grant.ident)
    };
    let standard = [
        ("iss", json!(state.issuer)),
        ("sub", json!(a.sub.as_deref().unwrap_or(&a.subject))),
        ("aud", aud),
        ("iat", json!(now)),
        (
            "exp",
            json!(now + state.settings.id_token_lifetime.as_secs()),
        ),
    ];
    claims.extend(standard.into_iter().map(|(k, v)| (k.to_owned(), v)));
    if a.auth_time > 0 {
        claims.insert("auth_time".into(), a.auth_time.into());
    }
    if let Some(acr) = &a.acr {
        claims.insert("acr".into(), acr.clone().into());
    }
    if let Some(id) = &grant.auth_req_id {
        claims.insert(
            "urn:openid:params:jwt:claim:auth_req_id".into(),
            id.clone().into(),
        );
        claims.insert("at_hash".into(), half_hash(&record.access_token).into());
        if let Some(refresh) = &record.refresh_token {
            // CIBA §10.3.1 names the pushed ID token's refresh-token hash with a URN.
            claims.insert(
                "urn:openid:params:jwt:claim:rt_hash".into(),
                half_hash(refresh).into(),
            );
        }
    }
    Value::Object(claims)
}

async fn sign(
    key: Arc<SigningKey>,
    claims: Value,
    header: Map<String, Value>,
) -> Result<String, String> {
    tokio::task::spawn_blocking(move || key.sign_with_header(&claims, &header))
        .await
        .map_err(|e| e.to_string())?
}
