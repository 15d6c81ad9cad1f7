//! Applying a device decision (SPEC §5.3): validation of the body, the claims for `/complete`,
//! the queue-place reservation, and the detached completion on the background thread.

use std::sync::Arc;

use futures_util::FutureExt;
use serde::Deserialize;
use serde_json::{Map, Value};
use tokio::sync::oneshot;

use super::bridge::Bridge;
use super::complete::{Completion, Outcome, Verdict};
use super::decision::DecisionClaims;
use crate::directory::{Directory, HintKind, Query};

/// Leeway on `auth_time` against the request's issue time and the gateway's clock.
const AUTH_TIME_SKEW_SECS: u64 = 60;

/// Registered JWT and protocol claims a decision may not set.
const PROTOCOL_CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "azp",
    "at_hash",
    "c_hash",
    "rt_hash",
    "sid",
];

/// The JSON body of a decision.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    pub decision: String,
    #[serde(default)]
    pub acr: Option<String>,
    #[serde(default)]
    pub amr: Option<Vec<String>>,
    #[serde(default)]
    pub auth_time: Option<u64>,
    #[serde(default)]
    pub claims: Option<Map<String, Value>>,
}

/// Why a decision was not sent to Authlete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// 400 `invalid_request` with this description.
    Invalid(String),
    /// 503: no notification queue place, or the directory or background thread is unavailable.
    Unavailable,
}

impl Bridge {
    /// Validates `body` against the token's `claims`, then completes the request on the
    /// background thread and waits for the outcome.
    pub async fn decide(
        self: &Arc<Self>,
        directory: &Directory,
        claims: DecisionClaims,
        body: DecisionBody,
        request_id: &str,
    ) -> Result<Outcome, Refused> {
        let verdict = self.verdict(directory, &claims, &body, request_id).await?;
        let label = match verdict {
            Verdict::Authorized { .. } => "approve",
            Verdict::Denied => "deny",
            Verdict::Failed => "fail",
        };
        let slot = match claims.delivery_mode.as_deref() {
            Some("ping" | "push") => Some(self.outbox.reserve().ok_or(Refused::Unavailable)?),
            _ => None,
        };
        let (reply, outcome) = oneshot::channel();
        let bridge = self.clone();
        let request_id = request_id.to_owned();
        let submitted = self.background.spawn_tracked(move |context| {
            async move {
                let completion = Completion {
                    claims: &claims,
                    verdict: &verdict,
                    request_id: &request_id,
                };
                let outcome = completion.run(&context, slot, &bridge.metrics).await;
                let label = match outcome {
                    Outcome::Done => Some(label),
                    Outcome::Unknown => Some("unknown"),
                    _ => None,
                };
                if let Some(label) = label {
                    bridge
                        .metrics
                        .device_decisions
                        .with_label_values(&[label])
                        .inc();
                }
                if matches!(
                    outcome,
                    Outcome::Done | Outcome::AlreadyDecided | Outcome::Expired
                ) {
                    bridge.settle(&claims.ticket);
                }
                // The client may have gone; the decision stands either way.
                let _ = reply.send(outcome);
            }
            .boxed_local()
        });
        if !submitted {
            return Err(Refused::Unavailable);
        }
        outcome.await.map_err(|_| Refused::Unavailable)
    }

    async fn verdict(
        &self,
        directory: &Directory,
        claims: &DecisionClaims,
        body: &DecisionBody,
        request_id: &str,
    ) -> Result<Verdict, Refused> {
        let invalid = |m: &str| Err(Refused::Invalid(m.to_owned()));
        match body.decision.as_str() {
            "approve" => {}
            "deny" => return Ok(Verdict::Denied),
            "fail" => return Ok(Verdict::Failed),
            _ => return invalid("decision must be approve, deny or fail"),
        }
        let now = self.clock.unix_secs();
        let auth_time = body.auth_time.unwrap_or(now);
        if auth_time + AUTH_TIME_SKEW_SECS < claims.issued_at
            || auth_time > now + AUTH_TIME_SKEW_SECS
        {
            return invalid("auth_time lies outside the request's lifetime");
        }
        if let Some(acr) = &body.acr {
            if !claims.acrs.is_empty() && !claims.acrs.contains(acr) {
                return invalid("acr is not one of the requested acr_values");
            }
        }
        let decided = body.claims.clone().unwrap_or_default();
        for name in decided.keys() {
            if PROTOCOL_CLAIMS.contains(&name.as_str()) || name.starts_with("urn:openid:") {
                return invalid("claims may not set registered or protocol claims");
            }
            if !claims.claim_names.contains(name) {
                return invalid("claims may only name claims the request asked for");
            }
        }
        let query = Query {
            kind: HintKind::Subject,
            hint: &claims.subject,
            user_code: None,
        };
        let user = directory.lookup(query).await.map_err(|e| {
            log::warn!("request_id={request_id} directory lookup for /complete failed: {e:?}");
            Refused::Unavailable
        })?;
        let mut merged: Map<String, Value> = user
            .claims
            .into_iter()
            .filter(|(name, _)| claims.claim_names.contains(name))
            .collect();
        merged.extend(decided);
        if let Some(amr) = &body.amr {
            merged.insert("amr".into(), Value::from(amr.clone()));
        }
        Ok(Verdict::Authorized {
            auth_time,
            acr: body.acr.clone(),
            claims: (!merged.is_empty()).then(|| Value::Object(merged).to_string()),
        })
    }
}
