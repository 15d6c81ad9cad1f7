//! Edge polling control (SPEC §3.2): a poll that comes sooner than the interval after the last
//! one Authlete answered pending gets `slow_down` without calling Authlete — but only when it
//! presents the very credentials that poll proved valid for the id. Any other caller (a wrong
//! secret, another client, none at all) always reaches Authlete and gets its RFC 6749 / CIBA
//! answer, and learns nothing about the request's state from the gateway.

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::authlete::dto::ClientCredentials;
use crate::state::{Arrival, Checked, PollCheck, PollEntries, State};

/// The interval CIBA Core §7.3 tells clients to use when none (or ≤ 0) was given.
const CIBA_DEFAULT_INTERVAL_SECS: u64 = 5;

/// The form parameters that authenticate a client at the token endpoint (RFC 6749 §2.3.1,
/// RFC 7523 §2.2, OpenID Connect Core §9). An assertion differs on every poll, so a client
/// that uses one never matches an entry and is always forwarded.
const CREDENTIAL_PARAMETERS: &[&str] = &[
    "client_id",
    "client_secret",
    "client_assertion_type",
    "client_assertion",
];

/// A keyed digest of the credentials a caller presented; the credentials themselves are not
/// kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller([u8; 32]);

/// What to do with a poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Poll {
    /// Answer `slow_down` without calling Authlete.
    TooEarly,
    /// Forward it; `arrival` is unknown when the state backend failed (the control fails open).
    Forward { arrival: Option<Arrival> },
}

/// The edge polling control: the caller digests and the rules, over the poll entries of the
/// state backend. A failing backend never refuses a poll: it goes to Authlete (SPEC §12).
pub struct PollControl {
    state: Arc<State>,
    /// HMAC key of the caller digests (see `State::caller_key`).
    caller_key: [u8; 32],
}

impl PollControl {
    pub fn new(state: Arc<State>) -> Self {
        Self {
            caller_key: state.caller_key(),
            state,
        }
    }

    /// The digest of the credentials a token request presents: Basic id and secret, the
    /// client certificate, attestation headers and the credential parameters of the form
    /// (`parameters`, decoded, in order).
    pub fn caller(
        &self,
        credentials: &ClientCredentials,
        parameters: &[(String, String)],
    ) -> Caller {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.caller_key) else {
            // HMAC takes keys of any length; unreachable, and a zero digest matches nobody.
            return Caller([0; 32]);
        };
        let c = credentials;
        let headers = [
            c.client_id.as_deref(),
            c.client_secret.as_deref(),
            c.client_certificate.as_deref(),
            c.oauth_client_attestation.as_deref(),
            c.oauth_client_attestation_pop.as_deref(),
        ];
        for value in headers {
            absorb(&mut mac, value.unwrap_or_default().as_bytes());
        }
        for name in CREDENTIAL_PARAMETERS {
            for (_, value) in parameters.iter().filter(|(n, _)| n == name) {
                absorb(&mut mac, name.as_bytes());
                absorb(&mut mac, value.as_bytes());
            }
        }
        Caller(mac.finalize().into_bytes().into())
    }

    /// Remembers the `interval` of an issued request; a value ≤ 0 counts as 5 s (CIBA §7.3).
    /// On failure the default interval applies to the request. `origin` is the backchannel
    /// request's `traceparent` that the request's polls link to.
    pub async fn record_interval(&self, key: [u8; 32], interval: i64, origin: Option<&str>) {
        let secs = u64::try_from(interval)
            .ok()
            .filter(|secs| *secs > 0)
            .unwrap_or(CIBA_DEFAULT_INTERVAL_SECS);
        if let Err(e) = self
            .state
            .record_interval(&key, Duration::from_secs(secs), origin)
            .await
        {
            log::debug!("polling control: the interval was not recorded: {e}");
        }
    }

    /// Whether `caller`'s poll, arriving now, comes too soon after its last one; with the
    /// backchannel request's `traceparent` when one was recorded.
    pub async fn check(&self, key: &[u8; 32], caller: Caller) -> (Poll, Option<String>) {
        match self.state.check(key, &caller.0).await {
            Ok(Checked { verdict, origin }) => {
                let poll = match verdict {
                    PollCheck::TooEarly => Poll::TooEarly,
                    PollCheck::Forward(arrival) => Poll::Forward {
                        arrival: Some(arrival),
                    },
                };
                (poll, origin)
            }
            Err(e) => {
                log::debug!("polling control: check failed, forwarding the poll: {e}");
                (Poll::Forward { arrival: None }, None)
            }
        }
    }

    /// Records a poll that Authlete answered `authorization_pending` or `slow_down`: proof that
    /// `caller`'s credentials are valid and own the id.
    pub async fn record_poll(&self, key: &[u8; 32], caller: Caller, arrival: Option<Arrival>) {
        if let Err(e) = self.state.record_poll(key, &caller.0, arrival).await {
            log::debug!("polling control: the poll was not recorded: {e}");
        }
    }

    /// Forgets a request whose result is ready (decided, expired or redeemed): its next poll
    /// goes to Authlete at once. On failure the entry expires with the request.
    pub async fn forget(&self, key: &[u8; 32]) {
        if let Err(e) = self.state.forget(key).await {
            log::debug!("polling control: the entry was not removed: {e}");
        }
    }
}

/// Feeds one length-prefixed field, so that field boundaries cannot shift.
fn absorb(mac: &mut Hmac<Sha256>, bytes: &[u8]) {
    mac.update(&(bytes.len() as u64).to_be_bytes());
    mac.update(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{SharedClock, SystemClock};
    use crate::metrics::Metrics;

    fn control() -> PollControl {
        control_on(Arc::new(SystemClock))
    }

    fn control_on(clock: SharedClock) -> PollControl {
        let (_, state) = crate::state::memory_for_tests("", clock, Metrics::new());
        PollControl::new(Arc::new(state))
    }

    fn basic(id: &str, secret: &str) -> ClientCredentials {
        ClientCredentials {
            client_id: Some(id.into()),
            client_secret: Some(secret.into()),
            ..Default::default()
        }
    }

    fn form(text: &str) -> Vec<(String, String)> {
        text.split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect()
    }

    #[test]
    fn other_credentials_make_another_caller() {
        let poll = control();
        let body = form("grant_type=x&auth_req_id=a");
        let owner = poll.caller(&basic("c", "s"), &body);
        assert_eq!(owner, poll.caller(&basic("c", "s"), &body));
        for other in [
            poll.caller(&basic("c", "wrong"), &body),
            poll.caller(&basic("other", "s"), &body),
            poll.caller(&ClientCredentials::default(), &body),
            poll.caller(
                &ClientCredentials::default(),
                &form("client_id=c&client_secret=s"),
            ),
        ] {
            assert_ne!(other, owner);
        }
        assert_eq!(
            owner,
            poll.caller(&basic("c", "s"), &form("grant_type=y&auth_req_id=b")),
            "parameters other than credentials are not part of the caller"
        );
    }

    #[test]
    fn field_boundaries_are_part_of_the_digest() {
        let poll = control();
        let body = form("");
        assert_ne!(
            poll.caller(&basic("ab", "c"), &body),
            poll.caller(&basic("a", "bc"), &body)
        );
    }

    #[tokio::test]
    async fn only_the_recorded_caller_is_throttled() {
        let poll = control();
        let key = [7; 32];
        let body = form("");
        let owner = poll.caller(&basic("c", "s"), &body);
        let (Poll::Forward { arrival }, None) = poll.check(&key, owner).await else {
            panic!("the first poll is forwarded");
        };
        poll.record_poll(&key, owner, arrival).await;
        assert_eq!(poll.check(&key, owner).await.0, Poll::TooEarly);
        let other = poll.caller(&basic("c", "wrong"), &body);
        assert!(matches!(
            poll.check(&key, other).await.0,
            Poll::Forward { .. }
        ));
        poll.forget(&key).await;
        assert!(matches!(
            poll.check(&key, owner).await.0,
            Poll::Forward { .. }
        ));
    }

    #[tokio::test]
    async fn the_origin_outlives_the_entry_for_the_poll_that_collects_the_result() {
        let poll = control();
        let key = [8; 32];
        let owner = poll.caller(&basic("c", "s"), &form(""));
        let origin = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        poll.record_interval(key, 5, Some(origin)).await;
        assert_eq!(poll.check(&key, owner).await.1.as_deref(), Some(origin));
        poll.forget(&key).await;
        assert_eq!(poll.check(&key, owner).await.1.as_deref(), Some(origin));
        assert_eq!(poll.check(&[9; 32], owner).await.1, None);
    }

    #[tokio::test]
    async fn a_positive_interval_is_the_one_enforced() {
        let clock = Arc::new(crate::clock::ManualClock::new());
        let poll = control_on(clock.clone());
        let owner = poll.caller(&basic("c", "s"), &form(""));
        let key = [30; 32];
        poll.record_interval(key, 12, None).await;
        let (Poll::Forward { arrival }, _) = poll.check(&key, owner).await else {
            panic!("the first poll is forwarded");
        };
        poll.record_poll(&key, owner, arrival).await;
        // Past the 5 s default, short of 12 s less the 0.5 s leeway.
        clock.advance(Duration::from_secs(11));
        assert_eq!(poll.check(&key, owner).await.0, Poll::TooEarly);
        clock.advance(Duration::from_millis(500));
        assert!(matches!(
            poll.check(&key, owner).await.0,
            Poll::Forward { .. }
        ));
    }

    /// CIBA §7.3: an `interval` of zero or less means the client waits 5 s.
    #[tokio::test]
    async fn an_interval_of_zero_or_less_counts_as_five_seconds() {
        let poll = control();
        let owner = poll.caller(&basic("c", "s"), &form(""));
        for (n, interval) in [0, -1].into_iter().enumerate() {
            let key = [20 + n as u8; 32];
            poll.record_interval(key, interval, None).await;
            let (Poll::Forward { arrival }, _) = poll.check(&key, owner).await else {
                panic!("the first poll is forwarded");
            };
            poll.record_poll(&key, owner, arrival).await;
            assert_eq!(
                poll.check(&key, owner).await.0,
                Poll::TooEarly,
                "{interval}"
            );
        }
    }
}
