//! The in-memory database: `bc_auth` records (one per backchannel authentication request,
//! keyed by ticket and reachable by `auth_req_id`) and issued token pairs.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::config::DeliveryMode;

/// How long an expired record is kept so that late calls see "expired" rather than "unknown".
const EXPIRED_GRACE_MS: u64 = 3_600_000;

/// Where a `bc_auth` record is in its life.
#[derive(Debug, Clone)]
pub(crate) enum Stage {
    /// Created by `/backchannel/authentication`; awaiting `issue` or `fail`.
    Created,
    /// `issue` ran; awaiting `complete`.
    Issued,
    /// `complete` ran with this outcome.
    Completed(Outcome),
    /// A token request is minting tokens for it right now.
    Minting,
}

/// What `/complete` reported.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    Authorized(Box<Authorization>),
    /// ACCESS_DENIED or TRANSACTION_FAILED, with the `error` it maps to.
    Failed {
        result: &'static str,
        error: &'static str,
        description: Option<String>,
        uri: Option<String>,
    },
}

/// The grant recorded by `/complete` with `result=AUTHORIZED`.
#[derive(Debug, Clone)]
pub(crate) struct Authorization {
    pub subject: String,
    pub sub: Option<String>,
    pub auth_time: u64,
    pub acr: Option<String>,
    pub claims: Option<Map<String, Value>>,
    pub scopes: Vec<String>,
    pub consented_claims: Option<Vec<String>>,
    pub access_token: Option<String>,
    pub access_token_duration: u64,
    pub refresh_token_duration: u64,
    pub aud_array: bool,
    /// `idtHeaderParams`: extra JWS header parameters of the ID token.
    pub idt_header_params: Option<Map<String, Value>>,
}

/// One backchannel authentication request.
#[derive(Debug, Clone)]
pub(crate) struct BcAuth {
    pub client_id: u64,
    pub client_ident: String,
    pub alias_used: bool,
    pub mode: DeliveryMode,
    pub notification_token: Option<String>,
    pub scopes: Vec<String>,
    pub lifetime_secs: u64,
    pub expires_at_ms: u64,
    pub auth_req_id: Option<String>,
    pub stage: Stage,
}

/// An access token with its optional refresh token.
#[derive(Debug, Clone)]
pub(crate) struct TokenRecord {
    pub access_token: String,
    pub access_expires_ms: u64,
    pub refresh_token: Option<String>,
    pub refresh_expires_ms: u64,
    pub client_id: u64,
    pub client_ident: String,
    pub alias_used: bool,
    pub subject: Option<String>,
    pub scopes: Vec<String>,
    /// `GrantType` enum name of the original grant.
    pub grant_type: &'static str,
    pub consented_claims: Option<Vec<String>>,
    pub acr: Option<String>,
    pub auth_time: u64,
    pub issued_at_secs: u64,
    /// DPoP binding: the RFC 7638 thumbprint of the key the tokens are bound to.
    pub jkt: Option<String>,
}

#[derive(Debug, Default)]
pub(crate) struct Store {
    pub bc: HashMap<String, BcAuth>,
    pub tickets_by_auth_req_id: HashMap<String, String>,
    tokens: HashMap<String, TokenRecord>,
    access_by_refresh: HashMap<String, String>,
    /// The `jti` of every accepted request object and DPoP proof (namespaced by client or
    /// key), until it could no longer be accepted anyway (ms).
    seen_jtis: HashMap<String, u64>,
    /// When `prune` last scanned the store.
    last_prune_ms: u64,
}

/// How often `prune` scans the whole store: often enough to keep it small, rarely enough that
/// the scan costs nothing per request.
const PRUNE_EVERY_MS: u64 = 60_000;

impl Store {
    /// The ticket and record an `auth_req_id` belongs to.
    pub fn by_auth_req_id(&mut self, id: &str) -> Option<(String, &mut BcAuth)> {
        let ticket = self.tickets_by_auth_req_id.get(id)?.clone();
        let record = self.bc.get_mut(&ticket)?;
        Some((ticket, record))
    }

    pub fn remove_bc(&mut self, ticket: &str) {
        if let Some(record) = self.bc.remove(ticket) {
            if let Some(id) = record.auth_req_id {
                self.tickets_by_auth_req_id.remove(&id);
            }
        }
    }

    pub fn insert_tokens(&mut self, record: TokenRecord) {
        if let Some(refresh) = &record.refresh_token {
            self.access_by_refresh
                .insert(refresh.clone(), record.access_token.clone());
        }
        self.tokens.insert(record.access_token.clone(), record);
    }

    pub fn access(&self, token: &str) -> Option<&TokenRecord> {
        self.tokens.get(token)
    }

    pub fn refresh(&self, token: &str) -> Option<&TokenRecord> {
        self.tokens.get(self.access_by_refresh.get(token)?)
    }

    /// Deletes the token pair that `token` (access or refresh) belongs to.
    pub fn revoke(&mut self, token: &str) -> Option<TokenRecord> {
        let access = match self.access_by_refresh.get(token) {
            Some(access) => access.clone(),
            None => token.to_owned(),
        };
        let record = self.tokens.remove(&access)?;
        if let Some(refresh) = &record.refresh_token {
            self.access_by_refresh.remove(refresh);
        }
        Some(record)
    }

    /// Records a `jti` (namespaced `key`) until `expires_ms`; `false` when it was seen before
    /// and has not expired.
    pub fn first_use_of_jti(&mut self, key: String, expires_ms: u64, now_ms: u64) -> bool {
        if self.seen_jtis.get(&key).is_some_and(|exp| *exp > now_ms) {
            return false;
        }
        self.seen_jtis.insert(key, expires_ms);
        true
    }

    /// Forgets records and tokens that expired long ago, so a long-running emulator stays small.
    pub fn prune(&mut self, now_ms: u64) {
        if now_ms.saturating_sub(self.last_prune_ms) < PRUNE_EVERY_MS {
            return;
        }
        self.last_prune_ms = now_ms;
        let horizon = now_ms.saturating_sub(EXPIRED_GRACE_MS);
        let stale: Vec<String> = self
            .bc
            .iter()
            .filter(|(_, r)| r.expires_at_ms < horizon)
            .map(|(t, _)| t.clone())
            .collect();
        for ticket in stale {
            self.remove_bc(&ticket);
        }
        let dead: Vec<String> = self
            .tokens
            .values()
            .filter(|t| t.access_expires_ms.max(t.refresh_expires_ms) < horizon)
            .map(|t| t.access_token.clone())
            .collect();
        for token in dead {
            self.revoke(&token);
        }
        self.seen_jtis.retain(|_, expires_ms| *expires_ms > now_ms);
    }
}
