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

/// Takes the completion claim of `ticket`.
pub(super) async fn take(state: &Arc<State>, ticket: &str) -> Result<Claimed, StateError> {
    Ok(match state.claim_completion(ticket).await? {
        Claim::Taken { token, takeover } => Claimed::Held(Held {
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
    /// Runs `call`, renewing the lease every third of it.
    pub async fn renewing<F: Future>(&self, call: F) -> F::Output {
        let ticket = self.ticket.clone();
        let (state, token) = (&self.state, self.token);
        while_renewing(state.lease(), call, || async {
            state.renew_claim(&ticket, token).await
        })
        .await
    }

    /// After the call: a tombstone until the request's expiry + 30 s when Authlete answered,
    /// else released for the next decision or deadline attempt. A failure leaves the lease to
    /// run out.
    pub async fn settle(self, outcome: &Outcome, expires_at: u64, clock: &SharedClock) {
        if self.takeover && *outcome == Outcome::AlreadyDecided {
            log::warn!(
                "a completion claim was taken over from a holder that never reported back, and \
                 Authlete says the request was already completed"
            );
        }
        let stored = if outcome.is_answer() {
            let until = expires_at.saturating_add(TOMBSTONE_GRACE_SECS);
            let keep = Duration::from_secs(until.saturating_sub(clock.unix_secs()).max(1));
            let state = &self.state;
            state.finish_claim(&self.ticket, self.token, keep).await
        } else {
            self.state.release_claim(&self.ticket, self.token).await
        };
        if let Err(e) = stored {
            log::warn!("a completion claim stays until its lease runs out: {e}");
        }
    }
}

/// Runs `work`, calling `renew` every third of `lease` until it ends. A renewal that fails or
/// finds the lease lost is logged; the work goes on (Authlete's one-shot `/complete` keeps a
/// second call harmless).
pub(super) async fn while_renewing<F, R, Fut>(lease: Duration, work: F, mut renew: R) -> F::Output
where
    F: Future,
    R: FnMut() -> Fut,
    Fut: Future<Output = Result<bool, StateError>>,
{
    let every = (lease / 3).max(Duration::from_millis(100));
    let mut work = std::pin::pin!(work);
    loop {
        tokio::select! {
            done = &mut work => return done,
            () = tokio::time::sleep(every) => match renew().await {
                Ok(true) => {}
                Ok(false) => log::warn!("a lease was lost while its work ran"),
                Err(e) => log::warn!("a lease was not renewed: {e}"),
            },
        }
    }
}
