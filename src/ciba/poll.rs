//! Edge polling control (SPEC §3.2): a poll that comes sooner than the interval after the last
//! one Authlete answered pending gets `slow_down` without calling Authlete — but only when it
//! presents the very credentials that poll proved valid for the id. Any other caller (a wrong
//! secret, another client, none at all) always reaches Authlete and gets its RFC 6749 / CIBA
//! answer, and learns nothing about the request's state from the gateway.

use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::authlete::dto::ClientCredentials;

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

/// The last poll Authlete answered pending for one auth_req_id.
#[derive(Clone, Copy)]
struct Polled {
    caller: Caller,
    at: Instant,
}

pub struct PollControl {
    /// The last poll Authlete answered pending/slow_down, per request key.
    last_poll: moka::sync::Cache<[u8; 32], Polled>,
    /// The interval this replica saw in `/issue`, per request key.
    intervals: moka::sync::Cache<[u8; 32], u64>,
    /// Requests whose result is ready: a pending answer that arrives after the decision (its
    /// poll was sent before) must not bring the entry back.
    ready: moka::sync::Cache<[u8; 32], ()>,
    /// HMAC key of the caller digests, random per process: the digests never leave it.
    caller_key: [u8; 32],
    leeway: Duration,
    default_interval_secs: u64,
}

impl PollControl {
    pub fn new(
        max_entries: u64,
        lifetime: Duration,
        leeway: Duration,
        default_interval_secs: u64,
    ) -> Self {
        let mut caller_key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut caller_key);
        Self {
            last_poll: moka::sync::Cache::builder()
                .max_capacity(max_entries)
                .time_to_live(lifetime)
                .build(),
            intervals: moka::sync::Cache::builder()
                .max_capacity(max_entries)
                .time_to_live(lifetime)
                .build(),
            ready: moka::sync::Cache::builder()
                .max_capacity(max_entries)
                .time_to_live(lifetime)
                .build(),
            caller_key,
            leeway,
            default_interval_secs,
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
    pub fn record_interval(&self, key: [u8; 32], interval: i64) {
        let secs = if interval > 0 {
            interval as u64
        } else {
            CIBA_DEFAULT_INTERVAL_SECS
        };
        self.intervals.insert(key, secs);
    }

    fn interval(&self, key: &[u8; 32]) -> Duration {
        let secs = self
            .intervals
            .get(key)
            .unwrap_or(self.default_interval_secs);
        Duration::from_secs(secs)
    }

    /// True when `caller`'s poll arriving at `arrival` comes too soon after its last one.
    pub fn too_early(&self, key: &[u8; 32], caller: Caller, arrival: Instant) -> bool {
        let Some(last) = self.last_poll.get(key).filter(|p| p.caller == caller) else {
            return false;
        };
        let minimum = self.interval(key).saturating_sub(self.leeway);
        arrival.saturating_duration_since(last.at) < minimum
    }

    /// Records a poll that Authlete answered `authorization_pending` or `slow_down`: proof that
    /// `caller`'s credentials are valid and own the id.
    pub fn record_poll(&self, key: [u8; 32], caller: Caller, arrival: Instant) {
        if self.ready.contains_key(&key) {
            return;
        }
        let polled = Polled {
            caller,
            at: arrival,
        };
        self.last_poll.insert(key, polled);
        // `forget` may have run between the check and the insert: it marks before it removes,
        // so looking again settles every interleaving.
        if self.ready.contains_key(&key) {
            self.last_poll.invalidate(&key);
        }
    }

    /// Forgets a request whose result is ready (decided, expired or redeemed): its next poll
    /// goes to Authlete at once.
    pub fn forget(&self, key: &[u8; 32]) {
        self.ready.insert(*key, ());
        self.last_poll.invalidate(key);
        self.intervals.invalidate(key);
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

    fn control() -> PollControl {
        PollControl::new(100, Duration::from_secs(600), Duration::from_millis(500), 5)
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
    fn only_the_recorded_caller_is_throttled() {
        let poll = control();
        let key = [7; 32];
        let body = form("grant_type=x&auth_req_id=a");
        let owner = poll.caller(&basic("c", "s"), &body);
        let start = Instant::now();
        poll.record_poll(key, owner, start);
        let soon = start + Duration::from_secs(1);
        assert!(poll.too_early(&key, owner, soon));
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
            assert!(!poll.too_early(&key, other, soon));
        }
        assert!(!poll.too_early(&key, owner, start + Duration::from_millis(4500)));
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

    #[test]
    fn a_pending_answer_that_arrives_after_the_result_is_ready_records_nothing() {
        let poll = control();
        let caller = poll.caller(&basic("c", "s"), &form(""));
        let sent = Instant::now();
        poll.forget(&[2; 32]);
        poll.record_poll([2; 32], caller, sent);
        assert!(!poll.too_early(&[2; 32], caller, sent));
    }

    #[test]
    fn a_forgotten_request_is_never_too_early() {
        let poll = control();
        let caller = poll.caller(&basic("c", "s"), &form(""));
        let now = Instant::now();
        poll.record_poll([1; 32], caller, now);
        poll.forget(&[1; 32]);
        assert!(!poll.too_early(&[1; 32], caller, now));
    }
}
