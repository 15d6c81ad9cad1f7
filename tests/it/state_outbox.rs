//! The fleet's outbox scripts on a real `redis-server` (SPEC §12 "Outbox"), through the seam:
//! two replicas' backends on one Redis store once per id, lease exclusively, keep the attempt
//! count, count reserved places against the capacity, and take over or get back what the other
//! held.

use std::time::{Duration, SystemTime};

use authlete_gateway::config::{RedisSettings, Secret};
use authlete_gateway::state::redis::RedisState;
use authlete_gateway::state::seal::Sealer;
use authlete_gateway::state::{ClaimBatch, GuardPolicy, OutboxKind, OutboxStore, PollPolicy};

use crate::support::{eventually, RedisServer};

const KIND: OutboxKind = OutboxKind::Notification;
const LEASE: Duration = Duration::from_millis(1000);

fn replica(server: &RedisServer, name: &str, capacity: usize) -> RedisState {
    let settings = RedisSettings {
        url: Some(Secret::new(&server.url)),
        key_hash_secret: Some(Secret::new("a key hash secret of at least 32 bytes")),
        lease: LEASE,
        outbox_capacity: capacity,
        replica_name: name.to_owned(),
        ..RedisSettings::default()
    };
    let policy = PollPolicy {
        leeway: Duration::from_millis(500),
        default_interval: Duration::from_secs(2),
        lifetime: Duration::from_secs(600),
    };
    let guards = GuardPolicy {
        max_pending: 5,
        reservation_ttl: Duration::from_secs(2),
        max_failures: 3,
        failure_window: Duration::from_secs(2),
    };
    let up = prometheus::Gauge::new("up", "up").unwrap();
    RedisState::new(&settings, policy, guards, Sealer::new(&[[3; 32]]), up).unwrap()
}

fn in_ten_minutes() -> SystemTime {
    SystemTime::now() + Duration::from_secs(600)
}

/// Waits for the backend's first connection: an operation fails until then.
async fn connected(state: &RedisState) {
    eventually("Redis to answer", || async {
        state.holds_notification("none").await.is_ok()
    })
    .await;
}

async fn claim(state: &RedisState) -> ClaimBatch {
    state.claim(KIND, 10).await.unwrap()
}

#[actix_web::test]
async fn a_message_is_stored_once_leased_to_one_replica_and_keeps_its_attempt_count() {
    let Some(server) = RedisServer::start().await else {
        return;
    };
    let (a, b) = (replica(&server, "a", 10), replica(&server, "b", 10));
    connected(&a).await;
    let id = a.message_id(KIND, "ticket-1");
    assert_eq!(
        id,
        b.message_id(KIND, "ticket-1"),
        "the fleet derives one id"
    );
    assert!(!a.holds_notification("ticket-1").await.unwrap());
    for _ in 0..2 {
        let stored = a.enqueue(KIND, &id, b"message", in_ten_minutes(), None);
        assert!(stored.await.unwrap(), "a retried enqueue applies once");
    }
    assert!(b.holds_notification("ticket-1").await.unwrap());
    assert!(!b.holds_notification("ticket-2").await.unwrap());

    let batch = claim(&b).await;
    assert_eq!(batch.depth, 1);
    assert_eq!(batch.claimed.len(), 1);
    let claimed = &batch.claimed[0];
    assert_eq!(
        (claimed.id.as_str(), claimed.message.as_slice()),
        (id.as_str(), &b"message"[..])
    );
    assert_eq!((claimed.attempts, claimed.takeover), (0, false));
    assert!(claim(&a).await.claimed.is_empty(), "leased to b");
    assert!(b.renew(KIND, &id).await.unwrap());
    assert!(!a.renew(KIND, &id).await.unwrap(), "only the holder renews");
    assert!(!a.retry(KIND, &id, 1, Duration::ZERO).await.unwrap());
    assert!(b.retry(KIND, &id, 2, Duration::ZERO).await.unwrap());

    let again = claim(&a).await.claimed;
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].attempts, again[0].takeover), (2, false));
    assert!(a.finish(KIND, &id).await.unwrap());
    assert!(!b.finish(KIND, &id).await.unwrap(), "ended once");
    assert!(!a.holds_notification("ticket-1").await.unwrap());
    assert_eq!(claim(&a).await.depth, 0);
}

#[actix_web::test]
async fn reserved_places_and_messages_share_the_capacity() {
    let Some(server) = RedisServer::start().await else {
        return;
    };
    let a = replica(&server, "a", 2);
    connected(&a).await;
    let place = a.reserve_place(KIND).await.unwrap().expect("a free place");
    assert!(a
        .enqueue(KIND, "x", b"x", in_ten_minutes(), None)
        .await
        .unwrap());
    assert!(a.reserve_place(KIND).await.unwrap().is_none(), "full");
    assert!(!a
        .enqueue(KIND, "y", b"y", in_ten_minutes(), None)
        .await
        .unwrap());
    let into_place = a.enqueue(KIND, "z", b"z", in_ten_minutes(), Some(place));
    assert!(
        into_place.await.unwrap(),
        "a reserved place takes its message"
    );
    assert_eq!(claim(&a).await.depth, 2);
    assert!(a.finish(KIND, "x").await.unwrap());
    let freed = a.reserve_place(KIND).await.unwrap().expect("a place again");
    a.release_place(KIND, freed).await.unwrap();
    assert!(a
        .enqueue(KIND, "y", b"y", in_ten_minutes(), None)
        .await
        .unwrap());
}

#[actix_web::test]
async fn an_expired_lease_is_taken_over_and_a_handed_back_one_is_due_at_once() {
    let Some(server) = RedisServer::start().await else {
        return;
    };
    let (a, b) = (replica(&server, "a", 10), replica(&server, "b", 10));
    connected(&a).await;
    assert!(a
        .enqueue(KIND, "m", b"m", in_ten_minutes(), None)
        .await
        .unwrap());
    assert_eq!(claim(&a).await.claimed.len(), 1);
    let taken = eventually("a's lease to run out", || async {
        claim(&b).await.claimed.pop()
    })
    .await;
    assert!(taken.takeover, "claimed from a replica whose lease ran out");

    assert_eq!(b.hand_back(KIND, &["m".to_owned()]).await.unwrap(), 1);
    assert_eq!(
        a.hand_back(KIND, &["m".to_owned()]).await.unwrap(),
        0,
        "not a's"
    );
    let back = claim(&a).await.claimed;
    assert_eq!(back.len(), 1, "due at once, not after the lease");
    assert!(!back[0].takeover, "handed back, not taken over");
}
