//! Applying a device decision (SPEC §5.3): validation of the body, the claims for `/complete`,
//! the queue-place reservation, and the detached completion.

use std::rc::Rc;
use std::sync::Arc;

use futures_util::FutureExt;
use serde::Deserialize;
use serde_json::{Map, Value};
use tokio::sync::oneshot;

use super::background::Context;
use super::bridge::Bridge;
use super::claim::{self, Claimed};
use super::complete::{Completion, Outcome, Verdict};
use super::decision::DecisionClaims;
use super::DeliveryMode;
use crate::directory::Query;
use crate::outbox::NotificationPlace;
use crate::state::WakeCause;
use crate::telemetry::{self, KeyValue, Scope, SpanKind, SpanSpec, TraceContext};

/// Leeway on `auth_time` against the request's issue time and the gateway's clock.
const AUTH_TIME_SKEW_SECS: u64 = 60;

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
pub enum DecisionRejected {
    /// 400 `invalid_request` with this description.
    Invalid(String),
    /// 503: no notification queue place, or the directory or background thread is unavailable.
    Unavailable,
}

/// An approval that passed validation; its claims are completed from the directory in the
/// detached job, just before `/complete`.
struct Approval {
    auth_time: u64,
    acr: Option<String>,
    amr: Option<Vec<String>>,
    claims: Map<String, Value>,
}

/// A validated decision.
enum Decided {
    Approve(Approval),
    Deny,
    Fail,
}

impl Decided {
    /// The `decision` label of `gateway_device_decisions_total`.
    fn label(&self) -> &'static str {
        match self {
            Decided::Approve(_) => "approve",
            Decided::Deny => "deny",
            Decided::Fail => "fail",
        }
    }
}

/// Validates `body` against the token's `claims`, then completes the request apart from the
/// caller (on this thread with `here`, this thread's clients) and waits for the outcome.
pub async fn decide(
    bridge: &Arc<Bridge>,
    here: Option<&Rc<Context>>,
    claims: DecisionClaims,
    body: DecisionBody,
    request_id: &str,
) -> Result<Outcome, DecisionRejected> {
    let decided = validate(bridge, &claims, &body)?;
    let place = if claims.delivery_mode.is_some_and(DeliveryMode::notifies) {
        Some(
            bridge
                .outbox
                .reserve()
                .await
                .ok_or(DecisionRejected::Unavailable)?,
        )
    } else {
        None
    };
    let (reply, outcome) = oneshot::channel();
    let job_bridge = bridge.clone();
    let request_id = request_id.to_owned();
    // The detached work continues the backchannel request's trace (SPEC §13).
    // A span below the backchannel request's, linked to the device's decision request.
    let current = telemetry::current();
    let decision_request = current.as_ref().map(|s| s.trace);
    let backchannel = claims.traceparent.as_deref().and_then(TraceContext::parse);
    let scope = Scope {
        trace: backchannel
            .or(decision_request)
            .unwrap_or_else(TraceContext::start),
        request_id: Some(request_id.clone()),
        tracer: current.and_then(|s| s.tracer),
        notes: None,
    };
    let decision = decided.label();
    let submitted = bridge.background.spawn_tracked(here, move |context| {
        let spec = move || SpanSpec {
            name: "ciba decision".into(),
            kind: SpanKind::Internal,
            attributes: vec![KeyValue::new("ciba.decision", decision)],
            links: decision_request.into_iter().collect(),
        };
        let job = async move {
            let bridge = &job_bridge;
            // One report per request: a decision or deadline in flight, or one Authlete
            // answered, wins without another call (SPEC §5.3).
            let outcome = match claim::take(&bridge.state, &claims.ticket).await {
                Ok(Claimed::Held(held)) => {
                    let job = apply(bridge, &context, &claims, decided, place, &request_id);
                    let outcome = held.renewing(job).await;
                    bridge.conclude(held, &outcome, &claims).await;
                    if outcome.is_answer() {
                        bridge.settle(&claims.ticket, WakeCause::Decision).await;
                    }
                    outcome
                }
                Ok(Claimed::Busy | Claimed::Done) => Outcome::AlreadyDecided,
                Err(e) => {
                    log::warn!(
                        request_id = request_id; "the completion claim was not taken: {e}"
                    );
                    Outcome::Unavailable {
                        retry_after_secs: bridge.retry_after_secs,
                    }
                }
            };
            // The client may have gone; the decision stands either way.
            let _ = reply.send(outcome);
        };
        // Boxed first: the job holds the whole `/complete` exchange, and each wrapper would
        // otherwise copy it whole as it is built.
        let job = Box::pin(job);
        telemetry::scope(scope, telemetry::in_span(spec, job, |_| Vec::new())).boxed_local()
    });
    if !submitted {
        return Err(DecisionRejected::Unavailable);
    }
    outcome.await.map_err(|_| DecisionRejected::Unavailable)
}

/// The detached part: the verdict, `/complete` and the metric.
async fn apply(
    bridge: &Bridge,
    context: &Context,
    claims: &DecisionClaims,
    decided: Decided,
    place: Option<NotificationPlace>,
    request_id: &str,
) -> Outcome {
    let label = decided.label();
    let outcome = match verdict(bridge, context, claims, decided, request_id).await {
        Ok(verdict) => {
            let completion = Completion {
                claims,
                verdict: &verdict,
                request_id,
                poll: &bridge.poll,
            };
            completion.run(context, place, &bridge.metrics).await
        }
        Err(outcome) => outcome,
    };
    let counted = match outcome {
        Outcome::Done => Some(label),
        Outcome::Unknown => Some("unknown"),
        _ => None,
    };
    if let Some(label) = counted {
        bridge
            .metrics
            .device_decisions
            .with_label_values(&[label])
            .inc();
    }
    outcome
}

/// The checks of SPEC §5.3 that need no I/O.
fn validate(
    bridge: &Bridge,
    claims: &DecisionClaims,
    body: &DecisionBody,
) -> Result<Decided, DecisionRejected> {
    let invalid = |m: &str| Err(DecisionRejected::Invalid(m.to_owned()));
    match body.decision.as_str() {
        "approve" => {}
        "deny" => return Ok(Decided::Deny),
        "fail" => return Ok(Decided::Fail),
        _ => return invalid("decision must be approve, deny or fail"),
    }
    let now = bridge.clock.unix_secs();
    let auth_time = body.auth_time.unwrap_or(now);
    if auth_time.saturating_add(AUTH_TIME_SKEW_SECS) < claims.issued_at
        || auth_time > now.saturating_add(AUTH_TIME_SKEW_SECS)
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
        if crate::claims::is_protocol_claim(name) {
            return invalid("claims may not set registered or protocol claims");
        }
        if !claims.claim_names.contains(name) {
            return invalid("claims may only name claims the request asked for");
        }
    }
    Ok(Decided::Approve(Approval {
        auth_time,
        acr: body.acr.clone(),
        amr: body.amr.clone(),
        claims: decided,
    }))
}

/// The `/complete` verdict: for an approval, the directory's claims for the subject
/// filtered to the requested names, overlaid by the decision's claims, plus `amr`.
async fn verdict(
    bridge: &Bridge,
    context: &Context,
    claims: &DecisionClaims,
    decided: Decided,
    request_id: &str,
) -> Result<Verdict, Outcome> {
    let approval = match decided {
        Decided::Approve(approval) => approval,
        Decided::Deny => return Ok(Verdict::Denied),
        Decided::Fail => return Ok(Verdict::Failed),
    };
    let query = Query::subject(&claims.subject, request_id);
    let user = bridge
        .directory
        .lookup(query, &context.directory)
        .await
        .map_err(|e| {
            log::warn!(
                request_id = request_id; "directory lookup for /complete failed: {e:?}"
            );
            Outcome::Unavailable {
                retry_after_secs: bridge.retry_after_secs,
            }
        })?;
    let mut merged: Map<String, Value> = user
        .claims
        .into_iter()
        .filter(|(name, _)| claims.claim_names.contains(name))
        .collect();
    merged.extend(approval.claims);
    if let Some(amr) = approval.amr {
        merged.insert("amr".into(), Value::from(amr));
    }
    Ok(Verdict::Authorized {
        auth_time: approval.auth_time,
        acr: approval.acr,
        claims: (!merged.is_empty()).then(|| Value::Object(merged).to_string()),
    })
}
