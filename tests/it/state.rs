//! The state seam's contract (SPEC §3.2, §12): one suite, run against the `memory` backend and
//! against the `redis` backend on a real `redis-server`.

use std::sync::Arc;
use std::time::Duration;

use authlete_gateway::clock::ManualClock;
use authlete_gateway::config::{RedisSettings, Secret};
use authlete_gateway::state::memory::MemoryState;
use authlete_gateway::state::redis::keys::Keys;
use authlete_gateway::state::redis::RedisState;
use authlete_gateway::state::{PollCheck, PollEntries, PollPolicy};
use redis::AsyncCommands;

use crate::support::{eventually, RedisServer};

const SECRET: &str = "a key hash secret of at least 32 bytes";
const LIFETIME: Duration = Duration::from_secs(600);

fn policy() -> PollPolicy {
    PollPolicy {
        leeway: Duration::from_millis(500),
        default_interval: Duration::from_secs(2),
        lifetime: LIFETIME,
    }
}

fn redis_settings(url: &str) -> RedisSettings {
    RedisSettings {
        url: Some(Secret::new(url)),
        key_hash_secret: Some(Secret::new(SECRET)),
        ..RedisSettings::default()
    }
}

fn redis_state(server: &RedisServer) -> RedisState {
    let up = prometheus::Gauge::new("up", "up").unwrap();
    RedisState::new(&redis_settings(&server.url), policy(), up).unwrap()
}

fn forwarded(check: PollCheck) -> bool {
    matches!(check, PollCheck::Forward(_))
}

/// The behaviours every backend promises. `pass` moves the backend's clock: the memory backend
/// reads the manual clock, the Redis backend reads Redis's `TIME`, which nothing here moves, so
/// its conditions are awaited.
async fn contract(subject: &impl PollEntries, pass: impl Fn(Duration)) {
    let (owner, other) = ([1; 32], [2; 32]);

    // The first poll is forwarded; once recorded, the same caller is too early, another never.
    let key = [10; 32];
    let PollCheck::Forward(arrival) = subject.check(&key, &owner).await.unwrap() else {
        panic!("the first poll is forwarded");
    };
    subject
        .record_poll(&key, &owner, Some(arrival))
        .await
        .unwrap();
    assert_eq!(
        subject.check(&key, &owner).await.unwrap(),
        PollCheck::TooEarly
    );
    assert!(forwarded(subject.check(&key, &other).await.unwrap()));
    // A too-early poll does not move the entry, and an unknown arrival means now.
    assert_eq!(
        subject.check(&key, &owner).await.unwrap(),
        PollCheck::TooEarly
    );
    subject.record_poll(&key, &other, None).await.unwrap();
    assert_eq!(
        subject.check(&key, &other).await.unwrap(),
        PollCheck::TooEarly
    );
    assert!(forwarded(subject.check(&key, &owner).await.unwrap()));

    // A forgotten request is forwarded at once, and a pending answer that arrives afterwards
    // (to a poll sent before the result was ready) records nothing.
    subject.forget(&key).await.unwrap();
    assert!(forwarded(subject.check(&key, &other).await.unwrap()));
    subject.record_poll(&key, &other, None).await.unwrap();
    assert!(forwarded(subject.check(&key, &other).await.unwrap()));

    // The interval is per key: 1 s (minus the 500 ms leeway) here, the default 2 s there.
    let (short, long) = ([11; 32], [12; 32]);
    subject
        .record_interval(&short, Duration::from_secs(1))
        .await
        .unwrap();
    for key in [short, long] {
        subject.record_poll(&key, &owner, None).await.unwrap();
        assert_eq!(
            subject.check(&key, &owner).await.unwrap(),
            PollCheck::TooEarly
        );
    }
    pass(Duration::from_millis(600));
    eventually("the 1 s interval to pass", || async {
        forwarded(subject.check(&short, &owner).await.unwrap())
    })
    .await;
    assert_eq!(
        subject.check(&long, &owner).await.unwrap(),
        PollCheck::TooEarly
    );
    pass(Duration::from_secs(1));
    eventually("the 2 s default interval to pass", || async {
        forwarded(subject.check(&long, &owner).await.unwrap())
    })
    .await;
}

#[actix_web::test]
async fn the_memory_backend_keeps_the_contract() {
    let clock = Arc::new(ManualClock::new());
    let state = MemoryState::new(policy(), 1000, clock.clone());
    contract(&state, |by| clock.advance(by)).await;
}

#[actix_web::test]
async fn the_redis_backend_keeps_the_contract() {
    let Some(server) = RedisServer::start().await else {
        return;
    };
    contract(&redis_state(&server), |_| {}).await;
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
        .record_interval(&key, Duration::from_secs(5))
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
    assert_eq!(field_names.len(), 3, "{field_names:?}");
    for expected in ["interval_ms", "caller", "at"] {
        assert!(field_names.contains(&expected), "{field_names:?}");
    }
    let stored_caller = fields.iter().find(|(n, _)| n == "caller").unwrap();
    assert_eq!(stored_caller.1, caller.to_vec());

    // What is left once the result is ready is the mark alone, with its TTL.
    state.forget(&key).await.unwrap();
    let left: Vec<String> = c.keys("*").await.unwrap();
    assert_eq!(left, vec![name.clone()]);
    let fields: Vec<(String, String)> = c.hgetall(&name).await.unwrap();
    assert_eq!(fields, vec![("ready".to_owned(), "1".to_owned())]);
    let ttl: i64 = c.pttl(&name).await.unwrap();
    assert!(ttl > 0, "{ttl}");
}
