//! The gateway ending a request itself (SPEC §5.3): a ping/push request still undecided at its
//! deadline is completed with `TRANSACTION_FAILED` so that the client hears about it; a poll
//! request is left to Authlete's expiry and only leaves the lists.
//!
//! A deadline call that was not sent, got 429/5xx, or timed out is retried until the request
//! expires, and the request stays listed meanwhile: a brief Authlete outage must not cost a
//! ping/push client its notification. The waits of the gateway's own schedule (the deadline,
//! the retries) run on the injected clock; the fleet's (sweeps, leases) on real time, as
//! Redis's clock does.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use rand::Rng;

use super::background::Context;
use super::bridge::{unix, Bridge};
use super::claim::{self, while_renewing, Claimed, OnLost, Renewed};
use super::complete::{Completion, Outcome, Verdict};
use super::longpoll::deadline_cause;
use super::registry::Entry;
use super::DeliveryMode;
use crate::authlete::MAX_RETRY_AFTER_SECS;
use crate::backoff::backoff;
use crate::outbox::NotificationPlace;
use crate::state::{Deadlines as _, DueDeadline, WakeCause};
use crate::telemetry::{self, Scope, TraceContext};

/// How often a replica claims the shared deadlines that fell due (± a quarter).
const SWEEP_EVERY: Duration = Duration::from_millis(500);
/// Shared deadlines one replica runs at once; the rest wait for the next sweep, anywhere.
const MAX_RUNNING: usize = 64;
/// How often a deadline retries for a notification queue place.
const QUEUE_RETRY: Duration = Duration::from_secs(1);
/// Cap of the backoff between two deadline calls (the first waits about 0.5 s).
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Cap of any one wait, Authlete's own advice included (which the client caps the same way).
const MAX_WAIT: Duration = Duration::from_secs(MAX_RETRY_AFTER_SECS);

/// Ends the request `after` from now if it is still undecided: this process's timer, for a
/// backend that does not share deadlines. An unlisted request (the registry was full) is
/// completed anyway; Authlete answers "already decided" when someone was first.
pub(super) fn schedule(bridge: Arc<Bridge>, entry: Entry, after: Duration, listed: bool) {
    let at = bridge.clock.instant() + after;
    let scheduler = bridge.clone();
    scheduler.background.spawn_timer(move |context| {
        async move {
            // Created here, on the background thread, so the timer lives on its runtime.
            bridge.clock.sleep_until(at).await;
            // Boxed only once due: every pending request holds this timer, and the call's
            // state machine (tens of KiB) would otherwise be reserved for each from the start.
            if Box::pin(still_open(&bridge, &entry, listed)).await {
                Box::pin(end(&bridge, &context, &entry, listed)).await;
            }
        }
        .boxed_local()
    });
}

/// Starts running the fleet's deadlines on this replica, where the backend shares them.
pub fn start(bridge: &Arc<Bridge>) {
    if bridge.state.shares_deadlines() {
        sweep(bridge.clone());
    }
}

/// Runs the shared deadlines (SPEC §12): about every `SWEEP_EVERY` this replica claims the
/// deadlines that fell due, on any replica, and runs each while renewing its lease. A replica
/// that dies stops renewing; the next sweep anywhere takes its deadlines over.
fn sweep(bridge: Arc<Bridge>) {
    let sweeper = bridge.clone();
    sweeper.background.spawn_timer(move |context| {
        async move {
            let running = Rc::new(Cell::new(0usize));
            loop {
                let jitter = rand::thread_rng().gen_range(0..=SWEEP_EVERY.as_millis() as u64 / 4);
                let wait = tokio::time::sleep(SWEEP_EVERY + Duration::from_millis(jitter));
                if !bridge.background.pause(wait).await {
                    return;
                }
                let room = MAX_RUNNING.saturating_sub(running.get());
                if room == 0 {
                    continue;
                }
                let due = match bridge.state.claim_due(room).await {
                    Ok(due) => due,
                    Err(e) => {
                        log::debug!("shared deadlines not claimed: {e}");
                        continue;
                    }
                };
                for due in due {
                    let (bridge, context, running) =
                        (bridge.clone(), context.clone(), running.clone());
                    running.set(running.get() + 1);
                    actix_rt::spawn(async move {
                        run_claimed(&bridge, &context, due).await;
                        running.set(running.get() - 1);
                    });
                }
            }
        }
        .boxed_local()
    });
}

/// One shared deadline this replica claimed, run while its lease is renewed: stopped when the
/// lease is lost (another replica runs it now), handed back at once when shutdown interrupts it.
async fn run_claimed(bridge: &Bridge, context: &Context, due: DueDeadline) {
    let DueDeadline {
        listing,
        lease,
        reclaimed,
    } = due;
    let Some(entry) = super::registry::decode(listing) else {
        return;
    };
    let ticket = entry.request.claims.ticket.clone();
    let request_id = &entry.request.request_id;
    if reclaimed {
        bridge.metrics.deadlines_reclaimed.inc();
        log::info!(
            request_id = request_id; "took over a deadline whose lease ran out"
        );
    }
    bridge.hold_deadline(&ticket, &lease);
    let state = &bridge.state;
    let run = end(bridge, context, &entry, true);
    let renew = || state.renew_deadline(&ticket, &lease);
    match while_renewing(state.lease(), run, renew, OnLost::Stop).await {
        Renewed::Done(true) => {}
        Renewed::Done(false) => bridge.give_back(&ticket, &lease).await,
        Renewed::Lost => {
            log::info!(
                request_id = request_id; "the deadline's lease was lost; its new holder runs it"
            );
        }
    }
    bridge.drop_deadline(&ticket, &lease);
}

/// The deadline of a request still listed: a ping/push request is completed with
/// `TRANSACTION_FAILED`, a poll request only leaves the lists. False when shutdown stopped it
/// before an answer.
async fn end(bridge: &Bridge, context: &Context, entry: &Entry, listed: bool) -> bool {
    // The deadline's `/complete` and notification continue the backchannel request's trace.
    let Some(trace) = entry
        .request
        .claims
        .traceparent
        .as_deref()
        .and_then(TraceContext::parse)
    else {
        return end_request(bridge, context, entry, listed).await;
    };
    let scope = Scope {
        trace,
        request_id: Some(entry.request.request_id.clone()),
        tracer: context.tracer.clone(),
        notes: None,
    };
    telemetry::scope(scope, end_request(bridge, context, entry, listed)).await
}

async fn end_request(bridge: &Bridge, context: &Context, entry: &Entry, listed: bool) -> bool {
    if !entry
        .request
        .claims
        .delivery_mode
        .is_some_and(DeliveryMode::notifies)
    {
        // Poll requests are left to Authlete's expiry, which this deadline is.
        let expiry = deadline_cause(false);
        if bridge
            .settle(&entry.request.claims.ticket, expiry)
            .await
            .is_some()
        {
            bridge.cancel(entry);
        }
        return true;
    }
    let ended = match fail_until_answered(bridge, context, entry, listed).await {
        Some(Ended::GaveUp) if bridge.background.is_closing() => return false,
        Some(ended) => ended,
        // Decided meanwhile: the decision settled it, or settles it now if it could not.
        None => {
            bridge
                .settle(&entry.request.claims.ticket, WakeCause::Decision)
                .await;
            return true;
        }
    };
    bridge
        .metrics
        .device_decisions
        .with_label_values(&[ended.label()])
        .inc();
    let settled = bridge
        .settle(&entry.request.claims.ticket, deadline_cause(true))
        .await;
    if settled.is_some() && ended.ends_the_request() {
        bridge.cancel(entry);
    }
    true
}

/// False once a decision has settled a listed request (on any replica, with `redis`). When
/// the backend cannot tell, the deadline goes ahead: Authlete answers "already decided" if
/// someone was first.
async fn still_open(bridge: &Bridge, entry: &Entry, listed: bool) -> bool {
    if !listed {
        return true;
    }
    match bridge.registry.get(&entry.ciba_request_id).await {
        Ok(found) => found.is_some(),
        Err(e) => {
            log::warn!(
                request_id = entry.request.request_id; "the deadline could not check the registry ({e}); it goes ahead"
            );
            true
        }
    }
}

/// How the deadline's calls ended.
#[derive(Debug)]
enum Ended {
    /// Authlete's answer to the last call.
    Answered(Outcome),
    /// A196203 after an earlier call timed out: that call was applied, its answer (and the
    /// notification it carried) is lost.
    AppliedUnseen,
    /// No answer before the request expired, no queue place, or shutdown.
    GaveUp,
}

impl Ended {
    /// The `decision` label of `gateway_device_decisions_total`.
    fn label(&self) -> &'static str {
        match self {
            Ended::Answered(Outcome::Done) => "timeout",
            Ended::Answered(Outcome::AlreadyDecided) => "late",
            _ => "unknown",
        }
    }

    /// True when the gateway's own call ended the request, so the device hears `cancelled`.
    fn ends_the_request(&self) -> bool {
        matches!(
            self,
            Ended::Answered(Outcome::Done | Outcome::Expired) | Ended::AppliedUnseen
        )
    }
}

/// Calls `/complete` with `TRANSACTION_FAILED` until Authlete answers or the request expires.
/// None when a decision settled the request between two attempts. Each call is work that
/// shutdown waits for; no new call starts once shutdown has begun.
async fn fail_until_answered(
    bridge: &Bridge,
    context: &Context,
    entry: &Entry,
    listed: bool,
) -> Option<Ended> {
    let request_id = &entry.request.request_id;
    let completion = Completion {
        claims: &entry.request.claims,
        verdict: &Verdict::Failed,
        request_id,
        poll: &bridge.poll,
    };
    let expiry = unix(entry.request.claims.expires_at);
    let mut retry: u32 = 0;
    let mut maybe_applied = false;
    loop {
        let place = reserve_until_expiry(bridge, entry).await;
        if bridge.background.is_closing() {
            return Some(Ended::GaveUp);
        }
        let Some(place) = place else {
            log::error!(
                request_id = request_id; "no notification queue place until the request \
                 expired; the deadline's /complete was not sent"
            );
            return Some(Ended::GaveUp);
        };
        let outcome = match claim::take(&bridge.state, &entry.request.claims.ticket).await {
            Ok(Claimed::Held(held)) => {
                let call = completion.run(context, Some(place), &bridge.metrics);
                let outcome = bridge.background.track(held.renewing(call)).await;
                bridge.conclude(held, &outcome, &entry.request.claims).await;
                outcome
            }
            // A decision is being reported: its answer settles the request, or its failure
            // gives the claim back. Waiting for it is not a failed attempt.
            Ok(Claimed::Busy) => {
                drop(place);
                if bridge.clock.now() >= expiry {
                    return None;
                }
                let wait = tokio::time::sleep(bridge.state.lease() / 3);
                if !bridge.background.pause(wait).await {
                    return Some(Ended::GaveUp);
                }
                if !still_open(bridge, entry, listed).await {
                    return None;
                }
                continue;
            }
            Ok(Claimed::Done) => return None,
            // The call goes ahead unclaimed: Authlete's one-shot /complete keeps it single.
            Err(e) => {
                log::warn!(
                    request_id = request_id; "the deadline runs without its claim: {e}"
                );
                let call = completion.run(context, Some(place), &bridge.metrics);
                bridge.background.track(call).await
            }
        };
        if outcome == Outcome::AlreadyDecided && maybe_applied {
            log::warn!(
                request_id = request_id; "an earlier deadline /complete that timed out was \
                 applied; its notification is lost"
            );
            return Some(Ended::AppliedUnseen);
        }
        maybe_applied |= outcome == Outcome::Unknown;
        retry = retry.saturating_add(1);
        let Some(wait) = retry_wait(retry, &outcome) else {
            return Some(Ended::Answered(outcome));
        };
        if bridge.clock.now() + wait >= expiry {
            log::error!(
                request_id = request_id; "the deadline's /complete got no answer before the \
                 request expired ({outcome:?}); the client is not notified"
            );
            return Some(Ended::GaveUp);
        }
        log::warn!(
            request_id = request_id; "the deadline's /complete got no answer ({outcome:?}); \
             retry {retry} in {wait:?}"
        );
        let pause = bridge.clock.sleep_until(bridge.clock.instant() + wait);
        if !bridge.background.pause(pause).await {
            return Some(Ended::GaveUp);
        }
        if !still_open(bridge, entry, listed).await {
            return None;
        }
    }
}

/// The wait before retry number `retry`, or None when `outcome` is an answer. Authlete's
/// advice (`Retry-After` and the rate-limit headers) is honoured when it asks for longer than
/// the backoff.
fn retry_wait(retry: u32, outcome: &Outcome) -> Option<Duration> {
    let advice = match outcome {
        Outcome::Unavailable { retry_after_secs } => Duration::from_secs(*retry_after_secs),
        // Timed out after sending: Authlete may have applied it; a retry then gets A196203.
        Outcome::Unknown => Duration::ZERO,
        _ => return None,
    };
    Some(backoff(retry, MAX_BACKOFF).max(advice).min(MAX_WAIT))
}

/// A notification queue place for the deadline's `/complete`, waiting for one while the
/// queue is full, until the request expires or shutdown begins.
async fn reserve_until_expiry(bridge: &Bridge, entry: &Entry) -> Option<NotificationPlace> {
    loop {
        if let Some(place) = bridge.outbox.reserve().await {
            return Some(place);
        }
        if bridge.clock.unix_secs() >= entry.request.claims.expires_at {
            return None;
        }
        let retry = bridge
            .clock
            .sleep_until(bridge.clock.instant() + QUEUE_RETRY);
        if !bridge.background.pause(retry).await {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_applied_call_whose_answer_was_lost_ends_the_request_but_is_not_late() {
        assert_eq!(Ended::AppliedUnseen.label(), "unknown");
        assert!(Ended::AppliedUnseen.ends_the_request());
        assert_eq!(Ended::Answered(Outcome::AlreadyDecided).label(), "late");
        assert!(!Ended::Answered(Outcome::AlreadyDecided).ends_the_request());
        assert!(Ended::Answered(Outcome::Expired).ends_the_request());
        assert!(!Ended::GaveUp.ends_the_request());
    }

    #[test]
    fn only_unanswered_calls_are_retried() {
        for outcome in [
            Outcome::Done,
            Outcome::AlreadyDecided,
            Outcome::Expired,
            Outcome::UpstreamError,
            Outcome::Internal,
        ] {
            assert_eq!(retry_wait(1, &outcome), None, "{outcome:?}");
        }
        assert!(retry_wait(1, &Outcome::Unknown).is_some());
    }

    #[test]
    fn authletes_advice_is_honoured_within_the_cap() {
        let advised = |secs| {
            retry_wait(
                1,
                &Outcome::Unavailable {
                    retry_after_secs: secs,
                },
            )
        };
        assert_eq!(advised(7), Some(Duration::from_secs(7)));
        assert_eq!(advised(3600), Some(MAX_WAIT));
        let unadvised = advised(0).unwrap_or(MAX_WAIT);
        assert!(unadvised <= Duration::from_millis(500), "{unadvised:?}");
    }

    #[test]
    fn backoff_grows_but_every_wait_stays_under_the_cap() {
        for retry in [1, 5, 10, 100, u32::MAX] {
            let wait = retry_wait(retry, &Outcome::Unknown).unwrap_or(Duration::MAX);
            assert!(wait <= MAX_BACKOFF, "{retry}: {wait:?}");
        }
        let late = retry_wait(10, &Outcome::Unknown).unwrap_or(Duration::ZERO);
        assert!(late >= MAX_BACKOFF / 2, "{late:?}");
    }
}
