//! The completion claim of a request (SPEC §5.3, §12), as decisions and the deadline use it:
//! taken before `/complete`, renewed while the call runs, a tombstone once Authlete answered,
//! released when it did not.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::complete::Outcome;
use crate::clock::SharedClock;
use crate::state::{Claim, ClaimToken, Completions as _, State, StateError};

/// How long past the request's expiry a tombstone stays (SPEC §12).
const TOMBSTONE_GRACE_SECS: u64 = 30;

/// What taking the claim found.
pub(super) enum Claimed {
    Held(Held),
    /// Another decision, or the deadline, is reporting this request now.
    Busy,
    /// Authlete already answered a completion of this request.
    Done,
}

/// The claim, held by this replica.
pub(super) struct Held {
    state: Arc<State>,
    ticket: String,
    token: ClaimToken,
    /// A previous holder's lease ran out without an answer.
    pub takeover: bool,
}

/// Takes the completion claim of `ticket`. A take that failed may still have been applied
/// (it timed out after Redis ran it): its token is released, best effort, so that the claim
/// does not block the next decision for a lease.
pub(super) async fn take(state: &Arc<State>, ticket: &str) -> Result<Claimed, StateError> {
    let token = ClaimToken::random();
    let claim = match state.claim_completion(ticket, token).await {
        Ok(claim) => claim,
        Err(e) => {
            let _ = state.release_claim(ticket, token).await;
            return Err(e);
        }
    };
    Ok(match claim {
        Claim::Taken { takeover } => Claimed::Held(Held {
            state: state.clone(),
            ticket: ticket.to_owned(),
            token,
            takeover,
        }),
        Claim::Held => Claimed::Busy,
        Claim::Done => Claimed::Done,
    })
}

impl Held {
    /// Runs `call`, renewing the lease every third of it. A call in flight is not stopped when
    /// the lease is lost: Authlete's one-shot `/complete` keeps a second call harmless.
    pub async fn renewing(&self, call: impl Future<Output = Outcome>) -> Outcome {
        let ticket = self.ticket.clone();
        let (state, token) = (&self.state, self.token);
        let renew = || async { state.renew_claim(&ticket, token).await };
        match while_renewing(state.lease(), call, renew, OnLost::Continue).await {
            Renewed::Done(outcome) => outcome,
            // Not reached with `OnLost::Continue`; the call's effect would be unknown.
            Renewed::Lost => Outcome::Unknown,
        }
    }

    /// After the call: a tombstone until the request's expiry + 30 s when Authlete answered,
    /// else released for the next decision or deadline attempt. A failure leaves the lease to
    /// run out.
    pub async fn settle(self, outcome: &Outcome, expires_at: u64, clock: &SharedClock) {
        let stored = if outcome.is_answer() {
            let until = expires_at.saturating_add(TOMBSTONE_GRACE_SECS);
            let left = until.saturating_sub(clock.unix_secs());
            let keep = Duration::from_secs(left.max(1));
            self.state.finish_claim(&self.ticket, keep).await
        } else {
            self.state.release_claim(&self.ticket, self.token).await
        };
        if let Err(e) = stored {
            log::warn!("a completion claim stays until its lease runs out: {e}");
        }
    }
}

/// What `while_renewing` does when a renewal finds the lease lost.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum OnLost {
    /// The work goes on (a call already sent).
    Continue,
    /// The work stops: another holder runs it now.
    Stop,
}

pub(super) enum Renewed<T> {
    Done(T),
    /// The lease was lost and the work stopped (`OnLost::Stop`).
    Lost,
}

/// Runs `work`, calling `renew` every third of `lease` until it ends. A renewal that fails is
/// logged and the work goes on (the lease may still hold; Redis may be back at the next one).
pub(super) async fn while_renewing<F, R, Fut>(
    lease: Duration,
    work: F,
    mut renew: R,
    on_lost: OnLost,
) -> Renewed<F::Output>
where
    F: Future,
    R: FnMut() -> Fut,
    Fut: Future<Output = Result<bool, StateError>>,
{
    let every = (lease / 3).max(Duration::from_millis(100));
    let mut work = std::pin::pin!(work);
    loop {
        tokio::select! {
            done = &mut work => return Renewed::Done(done),
            () = tokio::time::sleep(every) => match renew().await {
                Ok(true) => {}
                Ok(false) if on_lost == OnLost::Stop => return Renewed::Lost,
                Ok(false) => log::debug!("a lease was lost while its call ran"),
                Err(e) => log::warn!("a lease was not renewed: {e}"),
            },
        }
    }
}
