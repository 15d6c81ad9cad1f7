//! The state seam's contract (SPEC §3.2, §4, §12): one suite, run against the `memory` backend,
//! against the `redis` backend on a real `redis-server`, and on a real Redis Cluster
//! (`state_cluster`).

use std::sync::Arc;
use std::time::Duration;

use authlete_gateway::clock::ManualClock;
use authlete_gateway::config::{RedisSettings, Secret};
use authlete_gateway::state::memory::MemoryState;
use authlete_gateway::state::redis::keys::Keys;
use authlete_gateway::state::redis::RedisState;
use authlete_gateway::state::seal::Sealer;
use authlete_gateway::state::{
    Attempt, Claim, ClaimToken, CodeFailures, Completions, Deadlines, GuardPolicy, Guess, Guesser,
    Listing, PendingPlaces, PollCheck, PollEntries, PollPolicy, Registry,
};
use redis::AsyncCommands;

use crate::support::{eventually, RedisServer};

pub(crate) const SECRET: &str = "a key hash secret of at least 32 bytes";
pub(crate) const LIFETIME: Duration = Duration::from_secs(600);
const CAP: usize = 5;
const RESERVATION_TTL: Duration = Duration::from_secs(2);
const MAX_FAILURES: usize = 3;
const FAILURE_WINDOW: Duration = Duration::from_secs(2);
pub(crate) const LEASE: Duration = Duration::from_millis(1000);

pub(crate) fn policy() -> PollPolicy {
    PollPolicy {
        leeway: Duration::from_millis(500),
        default_interval: Duration::from_secs(2),
        lifetime: LIFETIME,
    }
}

pub(crate) fn guards() -> GuardPolicy {
    GuardPolicy {
        max_pending: CAP,
        reservation_ttl: RESERVATION_TTL,
        max_failures: MAX_FAILURES,
        failure_window: FAILURE_WINDOW,
    }
}

fn redis_settings(url: &str) -> RedisSettings {
    RedisSettings {
        url: Some(Secret::new(url)),
        key_hash_secret: Some(Secret::new(SECRET)),
        lease: LEASE,
        ..RedisSettings::default()
    }
}

pub(crate) const DECISION_KEY: [u8; 32] = [3; 32];

fn redis_state(server: &RedisServer) -> RedisState {
    redis_state_with_keys(server, &[DECISION_KEY])
}

fn redis_state_with_keys(server: &RedisServer, keys: &[[u8; 32]]) -> RedisState {
    replica(server, keys, "")
}

/// A replica named `name` (empty: the default, unique per call).
fn replica(server: &RedisServer, keys: &[[u8; 32]], name: &str) -> RedisState {
    let up = prometheus::Gauge::new("up", "up").unwrap();
    let sealer = Sealer::new(keys);
    let settings = RedisSettings {
        replica_name: name.into(),
        ..redis_settings(&server.url)
    };
    RedisState::new(&settings, policy(), guards(), sealer, up).unwrap()
}

fn forwarded(check: PollCheck) -> bool {
    matches!(check, PollCheck::Forward(_))
}

const ORIGIN: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// The behaviours every backend promises. `pass` moves the backend's clock: the memory backend
/// reads the manual clock, the Redis backend reads Redis's `TIME`, which nothing here moves, so
/// its conditions are awaited.
pub(crate) async fn contract(subject: &impl PollEntries, pass: impl Fn(Duration)) {
    let (owner, other) = ([1; 32], [2; 32]);

    // The first poll is forwarded; once recorded, the same caller is too early, another never.
    let key = [10; 32];
    let PollCheck::Forward(arrival) = subject.check(&key, &owner).await.unwrap().verdict else {
        panic!("the first poll is forwarded");
    };
    subject
        .record_poll(&key, &owner, Some(arrival))
        .await
        .unwrap();
    assert_eq!(
        subject.check(&key, &owner).await.unwrap().verdict,
        PollCheck::TooEarly
    );
    assert!(forwarded(
        subject.check(&key, &other).await.unwrap().verdict
    ));
    // A too-early poll does not move the entry, and an unknown arrival means now.
    assert_eq!(
        subject.check(&key, &owner).await.unwrap().verdict,
        PollCheck::TooEarly
    );
    subject.record_poll(&key, &other, None).await.unwrap();
    assert_eq!(
        subject.check(&key, &other).await.unwrap().verdict,
        PollCheck::TooEarly
    );
    assert!(forwarded(
        subject.check(&key, &owner).await.unwrap().verdict
    ));

    // A forgotten request is forwarded at once, and a pending answer that arrives afterwards
    // (to a poll sent before the result was ready) records nothing.
    subject.forget(&key).await.unwrap();
    assert!(forwarded(
        subject.check(&key, &other).await.unwrap().verdict
    ));
    subject.record_poll(&key, &other, None).await.unwrap();
    assert!(forwarded(
        subject.check(&key, &other).await.unwrap().verdict
    ));

    // The backchannel request's trace position stays readable after the result is ready, for
    // the poll that collects it; a key without one has none.
    let traced = [13; 32];
    subject
        .record_interval(&traced, Duration::from_secs(5), Some(ORIGIN))
        .await
        .unwrap();
    subject.forget(&traced).await.unwrap();
    let found = subject.check(&traced, &owner).await.unwrap();
    assert_eq!(found.origin.as_deref(), Some(ORIGIN));
    assert!(forwarded(found.verdict));
    assert_eq!(subject.check(&key, &owner).await.unwrap().origin, None);

    // The interval is per key: 1 s (minus the 500 ms leeway) here, the default 2 s there.
    let (short, long) = ([11; 32], [12; 32]);
    subject
        .record_interval(&short, Duration::from_secs(1), None)
        .await
        .unwrap();
    for key in [short, long] {
        subject.record_poll(&key, &owner, None).await.unwrap();
        assert_eq!(
            subject.check(&key, &owner).await.unwrap().verdict,
            PollCheck::TooEarly
        );
    }
    pass(Duration::from_millis(600));
    eventually("the 1 s interval to pass", || async {
        forwarded(subject.check(&short, &owner).await.unwrap().verdict)
    })
    .await;
    assert_eq!(
        subject.check(&long, &owner).await.unwrap().verdict,
        PollCheck::TooEarly
    );
    pass(Duration::from_secs(1));
    eventually("the 2 s default interval to pass", || async {
        forwarded(subject.check(&long, &owner).await.unwrap().verdict)
    })
    .await;
}

/// The push-bombing guard's places (SPEC §4 step 4), with `pass` as in `contract`.
pub(crate) async fn pending_contract(subject: &impl PendingPlaces, pass: impl Fn(Duration)) {
    let reserve = |who: &'static str| async move { subject.reserve(who).await.unwrap() };

    // The cap is per subject.
    let mut places = Vec::new();
    for _ in 0..CAP {
        places.push(reserve("alice").await.expect("below the cap"));
    }
    assert_eq!(reserve("alice").await, None, "the cap is reached");
    assert!(
        reserve("bob").await.is_some(),
        "another subject has its own places"
    );

    // Committed places count; a cancelled reservation frees its place.
    let (first, second) = ([1; 32], [2; 32]);
    subject
        .commit("alice", places[0], &first, LIFETIME)
        .await
        .unwrap();
    subject
        .commit("alice", places[1], &second, LIFETIME)
        .await
        .unwrap();
    subject.cancel("alice", places[2]).await.unwrap();
    assert!(reserve("alice").await.is_some(), "the cancelled place");
    assert_eq!(reserve("alice").await, None);

    // A decided request frees its place.
    subject.release("alice", &first).await.unwrap();
    assert!(reserve("alice").await.is_some(), "the released place");
    assert_eq!(reserve("alice").await, None);

    // Uncommitted reservations stop counting at their TTL; the issued request still counts.
    pass(RESERVATION_TTL);
    for _ in 0..CAP - 1 {
        eventually("the reservations to expire", || reserve("alice")).await;
    }
    assert_eq!(reserve("alice").await, None, "the issued request counts");

    // Concurrent reservations never overshoot the cap.
    let held = futures_util::future::join_all((0..4 * CAP).map(|_| reserve("carol"))).await;
    assert_eq!(held.iter().flatten().count(), CAP, "{held:?}");
}

/// The user-code lockout's guesses (SPEC §4 step 2), with `pass` as in `contract`.
pub(crate) async fn lockout_contract(subject: &impl CodeFailures, pass: impl Fn(Duration)) {
    let begin = |who: Guesser<'static>| async move { subject.begin_attempt(who).await.unwrap() };
    let begun = |who: Guesser<'static>| async move {
        match begin(who).await {
            Attempt::Begun(guess) => guess,
            Attempt::Locked => panic!("{who:?} is locked"),
        }
    };
    let settle = |who: Guesser<'static>, guess: Guess, correct: bool| async move {
        subject.settle_attempt(who, guess, correct).await.unwrap()
    };
    let wrong = |who: Guesser<'static>| async move { settle(who, begun(who).await, false).await };
    let alice = Guesser::Subject("alice");

    wrong(alice).await;
    pass(Duration::from_millis(500));
    for _ in 1..MAX_FAILURES - 1 {
        wrong(alice).await;
    }
    // Correct guesses are withdrawn: any number of them leave the count as it was.
    for _ in 0..2 * MAX_FAILURES {
        settle(alice, begun(alice).await, true).await;
    }
    // The wrong code that reaches the limit is still judged; the next guess is not.
    wrong(alice).await;
    assert_eq!(begin(alice).await, Attempt::Locked, "at the limit");
    assert_eq!(
        begin(alice).await,
        Attempt::Locked,
        "a refusal counts nothing"
    );
    // Subjects and hints are counted apart, however they are spelled.
    for other in [
        Guesser::Subject("bob"),
        Guesser::Hint("alice"),
        Guesser::Subject("hint:alice"),
    ] {
        settle(other, begun(other).await, true).await;
    }

    // Guesses in flight count: concurrent guesses, all begun before any is settled, never get
    // past the limit.
    let carol = Guesser::Subject("carol");
    let attempts = futures_util::future::join_all((0..20).map(|_| begin(carol))).await;
    let guesses: Vec<Guess> = attempts
        .iter()
        .filter_map(|a| match a {
            Attempt::Begun(guess) => Some(*guess),
            Attempt::Locked => None,
        })
        .collect();
    assert_eq!(guesses.len(), MAX_FAILURES, "{attempts:?}");
    // A correct one frees its place, a wrong one keeps it, an unsettled one counts as wrong.
    settle(carol, guesses[0], true).await;
    let again = begun(carol).await;
    assert_eq!(begin(carol).await, Attempt::Locked);
    settle(carol, guesses[1], false).await;
    assert_eq!(
        begin(carol).await,
        Attempt::Locked,
        "wrong and unsettled count"
    );
    settle(carol, again, true).await;
    let last = begun(carol).await;
    assert_eq!(begin(carol).await, Attempt::Locked);
    settle(carol, last, false).await;

    // Unlocked once the oldest failure leaves the window; unsettled guesses leave with it.
    pass(FAILURE_WINDOW - Duration::from_millis(500));
    eventually("the oldest failure to leave the window", || async {
        matches!(begin(alice).await, Attempt::Begun(_))
    })
    .await;
    pass(Duration::from_millis(500));
    eventually("the unsettled guesses to leave the window", || async {
        matches!(begin(carol).await, Attempt::Begun(_))
    })
    .await;
}

pub(crate) fn listing(n: u64) -> Listing {
    Listing {
        id: format!("id-{n}"),
        ticket: format!("ticket-{n}"),
        issued_at: 1_000 + n,
        record: format!("{{\"decision_token\":\"v1.token-{n}\",\"subject\":\"alice\"}}"),
    }
}

fn ids(listed: &[Listing]) -> Vec<&str> {
    let mut ids: Vec<&str> = listed.iter().map(|l| l.id.as_str()).collect();
    ids.sort();
    ids
}

/// The request registry (SPEC §5.4), with `pass` as in `contract`. `list` returns the
/// requests closest to their expiry in any order (the facade sorts them).
pub(crate) async fn registry_contract(subject: &impl Registry, pass: impl Fn(Duration)) {
    assert_eq!(subject.list(10).await.unwrap(), vec![]);
    assert_eq!(subject.count().await.unwrap(), 0);
    for n in 1..=3 {
        assert!(subject
            .insert(&listing(n), LIFETIME, LIFETIME)
            .await
            .unwrap());
    }
    assert_eq!(subject.get("id-2").await.unwrap(), Some(listing(2)));
    assert_eq!(subject.get("id-9").await.unwrap(), None);
    assert_eq!(
        ids(&subject.list(10).await.unwrap()),
        ["id-1", "id-2", "id-3"]
    );
    assert_eq!(subject.count().await.unwrap(), 3);

    // Removed by its ticket: gone from every view, and removed once.
    assert_eq!(subject.remove("ticket-2").await.unwrap(), Some(listing(2)));
    assert_eq!(subject.remove("ticket-2").await.unwrap(), None);
    assert_eq!(subject.get("id-2").await.unwrap(), None);
    assert_eq!(ids(&subject.list(10).await.unwrap()), ["id-1", "id-3"]);

    // The bound keeps those closest to their expiry.
    let short = Duration::from_secs(1);
    assert!(subject.insert(&listing(4), short, short).await.unwrap());
    assert_eq!(ids(&subject.list(1).await.unwrap()), ["id-4"]);
    assert_eq!(subject.count().await.unwrap(), 3);

    // An expired request leaves the list and the count, but can still be found and removed
    // for a while (the deadline's last settle).
    pass(short);
    eventually("the short request to expire", || async {
        subject.count().await.unwrap() == 2
    })
    .await;
    assert_eq!(ids(&subject.list(10).await.unwrap()), ["id-1", "id-3"]);
    assert_eq!(subject.get("id-4").await.unwrap(), Some(listing(4)));
    assert_eq!(subject.remove("ticket-4").await.unwrap(), Some(listing(4)));
    for n in [1, 3] {
        assert!(subject
            .remove(&format!("ticket-{n}"))
            .await
            .unwrap()
            .is_some());
    }
    assert_eq!(subject.count().await.unwrap(), 0);
}

/// The completion claims every backend promises (SPEC §12). `pass` moves the memory backend's
/// clock; Redis's lease expiry is awaited.
async fn claims_contract(subject: &impl Completions, pass: impl Fn(Duration)) {
    let (first, second, third) = (ClaimToken(1), ClaimToken(2), ClaimToken(3));
    let claim = |token| subject.claim_completion("t1", token);
    assert_eq!(
        claim(first).await.unwrap(),
        Claim::Taken { takeover: false }
    );
    assert_eq!(claim(second).await.unwrap(), Claim::Held);
    // A take that timed out after it was applied, asked again with its token, is its own.
    assert_eq!(
        claim(first).await.unwrap(),
        Claim::Taken { takeover: false }
    );
    assert!(subject.renew_claim("t1", first).await.unwrap());
    assert!(!subject.renew_claim("t1", second).await.unwrap());
    subject.release_claim("t1", second).await.unwrap();
    assert_eq!(claim(second).await.unwrap(), Claim::Held);
    subject.release_claim("t1", first).await.unwrap();
    assert_eq!(
        claim(second).await.unwrap(),
        Claim::Taken { takeover: false },
        "a released claim is free, and taking it is not a takeover"
    );

    // Its holder stops renewing: once the lease has run out the next caller takes it over.
    pass(LEASE + Duration::from_millis(100));
    let taken = eventually("the lease to run out", || async {
        match claim(third).await.unwrap() {
            Claim::Held => None,
            other => Some(other),
        }
    })
    .await;
    assert_eq!(taken, Claim::Taken { takeover: true });
    assert!(
        !subject.renew_claim("t1", second).await.unwrap(),
        "the old holder lost it"
    );

    // Authlete answered: a tombstone for everyone, the holder included.
    subject
        .finish_claim("t1", Duration::from_secs(60))
        .await
        .unwrap();
    for token in [first, third, ClaimToken(4)] {
        assert_eq!(claim(token).await.unwrap(), Claim::Done);
    }
    assert!(!subject.renew_claim("t1", third).await.unwrap());
    subject.release_claim("t1", third).await.unwrap();
    assert_eq!(claim(third).await.unwrap(), Claim::Done);
    // A tombstone lasts as long as it was told to.
    subject
        .finish_claim("t3", Duration::from_secs(1))
        .await
        .unwrap();
    pass(Duration::from_millis(1100));
    eventually("the tombstone to pass", || async {
        subject.claim_completion("t3", first).await.unwrap() == (Claim::Taken { takeover: false })
    })
    .await;

    // Racing callers: exactly one gets it.
    let racing = (10..20).map(|n| subject.claim_completion("t2", ClaimToken(n)));
    let claims = futures_util::future::join_all(racing).await;
    let taken = claims
        .iter()
        .filter(|c| matches!(c, Ok(Claim::Taken { .. })))
        .count();
    assert_eq!(taken, 1, "{claims:?}");
}

/// The whole contract, as every backend is run through it.
pub(crate) async fn whole_contract<S>(subject: &S, pass: impl Fn(Duration))
where
    S: PollEntries + PendingPlaces + CodeFailures + Registry + Completions,
{
    contract(subject, &pass).await;
    pending_contract(subject, &pass).await;
    lockout_contract(subject, &pass).await;
    registry_contract(subject, &pass).await;
    claims_contract(subject, &pass).await;
}

fn memory_state(clock: Arc<ManualClock>) -> MemoryState {
    MemoryState::new(policy(), 1000, clock, guards(), LEASE)
}

#[actix_web::test]
async fn the_memory_backend_keeps_the_contract() {
    let clock = Arc::new(ManualClock::new());
    let state = memory_state(clock.clone());
    whole_contract(&state, |by| clock.advance(by)).await;
}

#[actix_web::test]
async fn the_memory_registry_is_bounded() {
    use authlete_gateway::state::memory::registry::MAX_ENTRIES;
    let state = memory_state(Arc::new(ManualClock::new()));
    for n in 0..MAX_ENTRIES as u64 {
        assert!(state.insert(&listing(n), LIFETIME, LIFETIME).await.unwrap());
    }
    let extra = listing(MAX_ENTRIES as u64);
    assert!(!state.insert(&extra, LIFETIME, LIFETIME).await.unwrap());
    assert_eq!(state.get(&extra.id).await.unwrap(), None);
    assert!(state.remove("ticket-0").await.unwrap().is_some());
    assert!(state.insert(&extra, LIFETIME, LIFETIME).await.unwrap());
}

#[actix_web::test]
async fn the_redis_backend_keeps_the_contract() {
    let Some(server) = RedisServer::start().await else {
        return;
    };
    let state = redis_state(&server);
    whole_contract(&state, |_| {}).await;
}

#[actix_web::test]
async fn a_due_deadline_is_run_by_one_replica_and_taken_over_when_its_lease_runs_out() {
    let Some(server) = RedisServer::start().await else {
        return;
    };
    let (a, b) = (
        replica(&server, &[DECISION_KEY], "replica-a"),
        replica(&server, &[DECISION_KEY], "replica-b"),
    );
    let request = listing(1);
    let soon = Duration::from_millis(300);
    assert!(a.insert(&request, LIFETIME, soon).await.unwrap());
    assert!(b.claim_due(10).await.unwrap().is_empty(), "not due yet");

    let due = eventually("the deadline to fall due", || async {
        let due = a.claim_due(10).await.unwrap();
        (!due.is_empty()).then_some(due)
    })
    .await;
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].listing, request);
    assert!(!due[0].reclaimed);
    assert!(b.claim_due(10).await.unwrap().is_empty(), "leased to a");
    let first = &due[0].lease;
    assert!(a.renew_deadline("ticket-1", first).await.unwrap());

    // a stops renewing (it died): once its lease ran out, b takes the deadline over.
    let taken = eventually("the lease to run out", || async {
        let due = b.claim_due(10).await.unwrap();
        (!due.is_empty()).then_some(due)
    })
    .await;
    assert!(taken[0].reclaimed, "{taken:?}");
    let second = &taken[0].lease;
    assert!(
        !a.renew_deadline("ticket-1", first).await.unwrap(),
        "a lost it"
    );
    a.postpone("ticket-1", first, Duration::ZERO).await.unwrap();
    assert!(
        a.claim_due(10).await.unwrap().is_empty(),
        "a stale lease gives nothing back"
    );

    // A replica that claims a deadline again (its renewals stalled) holds a new lease: the
    // old one no longer renews.
    let again = eventually("b's own lease to run out", || async {
        let due = b.claim_due(10).await.unwrap();
        (!due.is_empty()).then_some(due)
    })
    .await;
    assert_ne!(&again[0].lease, second);
    assert!(!b.renew_deadline("ticket-1", second).await.unwrap());
    let third = &again[0].lease;
    assert!(b.renew_deadline("ticket-1", third).await.unwrap());

    // Handed back at shutdown: due at once, and not a takeover for whoever takes it.
    b.postpone("ticket-1", third, Duration::ZERO).await.unwrap();
    let handed = a.claim_due(10).await.unwrap();
    assert_eq!(handed.len(), 1);
    assert!(!handed[0].reclaimed);

    // Settling the request cancels its deadline: nothing is left behind.
    assert_eq!(a.remove("ticket-1").await.unwrap(), Some(request));
    let mut c = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let names: Vec<String> = c.keys("*deadline*").await.unwrap();
    assert!(names.is_empty(), "{names:?}");

    // A deadline whose entry is gone (its TTL ran out) is dropped, not run.
    assert!(a.insert(&listing(2), LIFETIME, soon).await.unwrap());
    let entries: Vec<String> = c.keys("*:req:*").await.unwrap();
    let _: () = c.del(entries).await.unwrap();
    let dropped = eventually("the deadline without an entry to fall due", || async {
        let names: Vec<String> = c.clone().keys("*deadline*").await.unwrap();
        let due = a.claim_due(10).await.unwrap();
        let still: Vec<String> = c.clone().keys("*deadline*").await.unwrap();
        (!names.is_empty() && still.is_empty()).then_some(due)
    })
    .await;
    assert!(dropped.is_empty(), "{dropped:?}");
}

#[actix_web::test]
async fn replicas_sharing_redis_share_one_cap() {
    let Some(server) = RedisServer::start().await else {
        return;
    };
    let (a, b) = (redis_state(&server), redis_state(&server));
    let both = (0..4 * CAP).map(|i| {
        let replica = if i % 2 == 0 { &a } else { &b };
        async move { replica.reserve("alice").await.unwrap() }
    });
    let held = futures_util::future::join_all(both).await;
    assert_eq!(held.iter().flatten().count(), CAP, "{held:?}");

    // Guesses at one user's code spread over two replicas: exactly the limit is judged.
    let alice = Guesser::Subject("alice");
    let both = (0..20).map(|i| {
        let replica = if i % 2 == 0 { &a } else { &b };
        async move { replica.begin_attempt(alice).await.unwrap() }
    });
    let attempts = futures_util::future::join_all(both).await;
    let begun = attempts
        .iter()
        .filter(|a| matches!(a, Attempt::Begun(_)))
        .count();
    assert_eq!(begun, MAX_FAILURES, "{attempts:?}");
    assert_eq!(b.begin_attempt(alice).await.unwrap(), Attempt::Locked);
    // A guess begun on one replica is withdrawn through the other.
    let bob = Guesser::Subject("bob");
    for _ in 0..MAX_FAILURES {
        let Attempt::Begun(guess) = a.begin_attempt(bob).await.unwrap() else {
            panic!("locked");
        };
        b.settle_attempt(bob, guess, true).await.unwrap();
    }
    assert!(matches!(
        a.begin_attempt(bob).await.unwrap(),
        Attempt::Begun(_)
    ));
}

#[actix_web::test]
async fn guard_keys_have_ttls_and_no_subject_or_hint_in_the_clear() {
    let Some(server) = RedisServer::start().await else {
        return;
    };
    let state = redis_state(&server);
    let subject = "alice@example.com";
    let place = state.reserve(subject).await.unwrap().unwrap();
    state
        .commit(subject, place, &[9; 32], LIFETIME)
        .await
        .unwrap();
    state.reserve(subject).await.unwrap().unwrap();
    let (by_subject, by_hint) = (Guesser::Subject(subject), Guesser::Hint(subject));
    for who in [by_subject, by_hint] {
        // One wrong, one unsettled, one withdrawn.
        for correct in [Some(false), None, Some(true)] {
            let Attempt::Begun(guess) = state.begin_attempt(who).await.unwrap() else {
                panic!("locked");
            };
            if let Some(correct) = correct {
                state.settle_attempt(who, guess, correct).await.unwrap();
            }
        }
    }

    let mut c = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let keys = Keys::new("agw", SECRET.as_bytes());
    let mut names: Vec<String> = c.keys("*").await.unwrap();
    names.sort();
    let mut expected = vec![
        keys.pending(subject),
        keys.failures(by_subject),
        keys.failures(by_hint),
    ];
    expected.sort();
    assert_eq!(names, expected);
    for name in &names {
        assert!(!name.contains("alice"), "{name}");
        let members: Vec<String> = c.zrange(name, 0, -1).await.unwrap();
        for member in &members {
            assert!(!member.contains("alice"), "{member}");
            assert!(!member.contains(&hex::encode([9; 32])), "{member}");
        }
    }

    let pending: i64 = c.pttl(keys.pending(subject)).await.unwrap();
    let max = (LIFETIME + Duration::from_secs(60)).as_millis() as i64;
    assert!(pending > max - 5000 && pending <= max, "{pending}");
    let members: i64 = c.zcard(keys.pending(subject)).await.unwrap();
    assert_eq!(members, 2, "the issued request and the reservation");
    let max = (FAILURE_WINDOW + Duration::from_secs(60)).as_millis() as i64;
    for name in [keys.failures(by_subject), keys.failures(by_hint)] {
        let ttl: i64 = c.pttl(&name).await.unwrap();
        assert!(ttl > max - 5000 && ttl <= max, "{ttl}");
        let members: i64 = c.zcard(&name).await.unwrap();
        assert_eq!(members, 2, "the wrong guess and the unsettled one");
    }
}

#[actix_web::test]
async fn every_redis_key_has_a_ttl_and_no_id_or_credential_in_the_clear() {
    let Some(server) = RedisServer::start().await else {
        return;
    };
    let state = redis_state(&server);
    let key = [42; 32];
    let caller = [7; 32];
    state
        .record_interval(&key, Duration::from_secs(5), Some(ORIGIN))
        .await
        .unwrap();
    let mut c = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let name = Keys::new("agw", SECRET.as_bytes()).poll(&key);
    let ttl = |c: &mut redis::aio::MultiplexedConnection| {
        let mut c = c.clone();
        let name = name.clone();
        async move { c.pttl::<_, i64>(&name).await.unwrap() }
    };
    let max = (LIFETIME + Duration::from_secs(60)).as_millis() as i64;
    let after_interval = ttl(&mut c).await;
    assert!(
        after_interval > max - 5000 && after_interval <= max,
        "{after_interval}"
    );
    state.record_poll(&key, &caller, None).await.unwrap();
    let after_poll = ttl(&mut c).await;
    assert!(after_poll > max - 5000 && after_poll <= max, "{after_poll}");

    let names: Vec<String> = c.keys("*").await.unwrap();
    assert_eq!(names, vec![name.clone()]);
    assert!(name.starts_with("{agw}:poll:"), "{name}");
    assert!(!name.contains(&hex::encode(key)), "{name}");
    let fields: Vec<(String, Vec<u8>)> = c.hgetall(&name).await.unwrap();
    let field_names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(field_names.len(), 4, "{field_names:?}");
    for expected in ["interval_ms", "caller", "at", "trace"] {
        assert!(field_names.contains(&expected), "{field_names:?}");
    }
    let stored_caller = fields.iter().find(|(n, _)| n == "caller").unwrap();
    assert_eq!(stored_caller.1, caller.to_vec());

    // What is left once the result is ready is the mark and the trace position (no secret: it
    // names the backchannel request's span), with the TTL.
    state.forget(&key).await.unwrap();
    let left: Vec<String> = c.keys("*").await.unwrap();
    assert_eq!(left, vec![name.clone()]);
    let mut fields: Vec<(String, String)> = c.hgetall(&name).await.unwrap();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            ("ready".to_owned(), "1".to_owned()),
            ("trace".to_owned(), ORIGIN.to_owned())
        ]
    );
    let ttl: i64 = c.pttl(&name).await.unwrap();
    assert!(ttl > 0, "{ttl}");
}

#[actix_web::test]
async fn registry_entries_are_sealed_and_every_request_key_has_a_ttl() {
    let Some(server) = RedisServer::start().await else {
        return;
    };
    let (old, new) = ([4; 32], [5; 32]);
    let before = redis_state_with_keys(&server, &[old]);
    let secret = Listing {
        id: "device-facing-id".into(),
        ticket: "ticket-in-the-clear".into(),
        issued_at: 1_000,
        record: r#"{"subject":"alice@example.com","client_id":"client-in-the-clear","decision_token":"v1.token-in-the-clear","binding_message":"BINDING-42"}"#.into(),
    };
    assert!(before.insert(&secret, LIFETIME, LIFETIME).await.unwrap());

    let mut c = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let names: Vec<String> = c.keys("*").await.unwrap();
    assert_eq!(names.len(), 4, "{names:?}");
    let clear = [
        "ticket-in-the-clear",
        "alice",
        "client-in-the-clear",
        "token-in-the-clear",
        "BINDING-42",
        "device-facing-id",
    ];
    let max = (LIFETIME + Duration::from_secs(60)).as_millis() as i64;
    for name in &names {
        let kind: String = redis::cmd("TYPE")
            .arg(name)
            .query_async(&mut c)
            .await
            .unwrap();
        let values: Vec<Vec<u8>> = match kind.as_str() {
            "string" => vec![c.get(name).await.unwrap()],
            "zset" => c.zrange(name, 0, -1).await.unwrap(),
            other => panic!("{name} is a {other}"),
        };
        for text in values
            .iter()
            .map(|v| String::from_utf8_lossy(v))
            .chain([name.into()])
        {
            for word in clear {
                assert!(!text.contains(word), "{name}: {word} in the clear");
            }
        }
        let ttl: i64 = c.pttl(name).await.unwrap();
        if name.ends_with(":requests") || name.ends_with(":deadlines") {
            assert_eq!(ttl, -1, "the fleet-wide sorted sets carry no TTL");
        } else {
            assert!(ttl > max - 5000 && ttl <= max, "{name}: {ttl}");
        }
    }

    // After a rotation the old key, second in the list, still opens the entry.
    let rotated = redis_state_with_keys(&server, &[new, old]);
    assert_eq!(
        rotated.get("device-facing-id").await.unwrap(),
        Some(secret.clone())
    );
    assert_eq!(rotated.list(10).await.unwrap(), vec![secret.clone()]);
    let retired = redis_state_with_keys(&server, &[new]);
    assert_eq!(retired.get("device-facing-id").await.unwrap(), None);
    assert_eq!(
        rotated.remove("ticket-in-the-clear").await.unwrap(),
        Some(secret)
    );
    let left: Vec<String> = c.keys("*").await.unwrap();
    assert_eq!(
        left.len(),
        1,
        "only the id's pointer, until its TTL: {left:?}"
    );
}

#[actix_web::test]
async fn replicas_sharing_redis_list_and_remove_one_registry() {
    let Some(server) = RedisServer::start().await else {
        return;
    };
    let (a, b) = (redis_state(&server), redis_state(&server));
    assert!(a.insert(&listing(1), LIFETIME, LIFETIME).await.unwrap());
    assert_eq!(b.list(10).await.unwrap(), vec![listing(1)]);
    assert_eq!(b.get("id-1").await.unwrap(), Some(listing(1)));
    assert_eq!(b.remove("ticket-1").await.unwrap(), Some(listing(1)));
    assert_eq!(a.list(10).await.unwrap(), vec![]);
    assert_eq!(a.count().await.unwrap(), 0);
}

#[actix_web::test]
async fn a_completion_claim_names_no_ticket_and_lives_no_longer_than_its_request() {
    let Some(server) = RedisServer::start().await else {
        return;
    };
    let state = redis_state(&server);
    let ticket = "ticket-in-the-clear";
    let token = ClaimToken(0xfeed);
    assert_eq!(
        state.claim_completion(ticket, token).await.unwrap(),
        Claim::Taken { takeover: false }
    );
    let mut c = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let names: Vec<String> = c.keys("*").await.unwrap();
    assert_eq!(names.len(), 1, "{names:?}");
    let name = &names[0];
    assert!(name.starts_with("{agw}:claim:"), "{name}");
    assert!(!name.contains(ticket));
    let max = (LIFETIME + Duration::from_secs(60)).as_millis() as i64;
    let leased: i64 = c.pttl(name).await.unwrap();
    assert!(leased > max - 5000 && leased <= max, "{leased}");
    let fields: Vec<(String, String)> = c.hgetall(name).await.unwrap();
    assert!(
        fields.iter().all(|(_, v)| !v.contains(ticket)),
        "{fields:?}"
    );

    state
        .finish_claim(ticket, Duration::from_secs(90))
        .await
        .unwrap();
    let tombstone: i64 = c.pttl(name).await.unwrap();
    assert!(tombstone > 85_000 && tombstone <= 90_000, "{tombstone}");
    let fields: Vec<(String, String)> = c.hgetall(name).await.unwrap();
    assert_eq!(fields, vec![("done".to_owned(), "1".to_owned())]);
}
