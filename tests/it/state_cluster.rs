//! The `redis` backend on a real Redis Cluster (`state.redis.cluster`, SPEC §12): the same
//! contract as on one server, every key on the one slot of the hash tag, and operations that go
//! on when that slot moves to another node, when its node restarts, or while another node is
//! silent.

use authlete_gateway::config::{RedisSettings, Secret, SecretList};
use authlete_gateway::state::redis::RedisState;
use authlete_gateway::state::seal::Sealer;
use authlete_gateway::state::{PendingPlaces, Registry};
use prometheus::Gauge;

use crate::state::{
    guards, listing, policy, whole_contract, DECISION_KEY, LEASE, LIFETIME, SECRET,
};
use crate::support::{eventually, RedisCluster};

/// Where every key lives: the slot of `{key_prefix}`.
const HASH_TAG: &str = "{agw}";

fn cluster_settings(cluster: &RedisCluster) -> RedisSettings {
    RedisSettings {
        cluster: true,
        urls: SecretList(cluster.urls().iter().map(Secret::new).collect()),
        key_hash_secret: Some(Secret::new(SECRET)),
        lease: LEASE,
        ..RedisSettings::default()
    }
}

/// A backend on `cluster`, and its `gateway_state_backend_up`.
fn cluster_state(cluster: &RedisCluster) -> (RedisState, Gauge) {
    let up = Gauge::new("up", "up").unwrap();
    let sealer = Sealer::new(&[DECISION_KEY]);
    let settings = cluster_settings(cluster);
    let state = RedisState::new(&settings, policy(), guards(), sealer, up.clone()).unwrap();
    (state, up)
}

/// How many keys node `i` holds.
async fn keys_on(cluster: &RedisCluster, i: usize) -> u64 {
    cluster.ask(i, &mut redis::cmd("DBSIZE")).await
}

#[actix_web::test]
async fn the_redis_cluster_backend_keeps_the_contract_on_one_slot() {
    let Some(cluster) = RedisCluster::start().await else {
        return;
    };
    let (state, up) = cluster_state(&cluster);
    whole_contract(&state, |_| {}).await;
    assert_eq!(up.get(), 1.0);

    // What the contract left behind (entries it expired, places it committed) is all on the
    // node owning the hash tag's slot.
    state.reserve("carol").await.unwrap().expect("a place");
    let home = cluster.owner_of(HASH_TAG).await;
    assert!(keys_on(&cluster, home).await > 0);
    for other in (0..cluster.nodes.len()).filter(|i| *i != home) {
        assert_eq!(keys_on(&cluster, other).await, 0, "node {other} holds keys");
    }
}

#[actix_web::test]
async fn operations_follow_the_slot_when_it_moves_to_another_node() {
    let Some(cluster) = RedisCluster::start().await else {
        return;
    };
    let (state, up) = cluster_state(&cluster);
    assert!(state.insert(&listing(1), LIFETIME, LIFETIME).await.unwrap());
    let home = cluster.owner_of(HASH_TAG).await;

    // The backend still routes to the old owner, which now answers MOVED.
    let to = (home + 1) % cluster.nodes.len();
    cluster.move_slot_of(HASH_TAG, to).await;
    assert_eq!(keys_on(&cluster, home).await, 0);

    assert_eq!(state.get("id-1").await.unwrap(), Some(listing(1)));
    assert!(state.insert(&listing(2), LIFETIME, LIFETIME).await.unwrap());
    assert_eq!(state.count().await.unwrap(), 2);
    assert!(keys_on(&cluster, to).await > 0);
    assert_eq!(up.get(), 1.0, "a redirect is not an outage");
}

#[actix_web::test]
async fn operations_resume_once_the_node_owning_the_slot_is_back() {
    let Some(mut cluster) = RedisCluster::start().await else {
        return;
    };
    let (state, up) = cluster_state(&cluster);
    assert!(state.insert(&listing(1), LIFETIME, LIFETIME).await.unwrap());
    assert_eq!(up.get(), 1.0);

    let home = cluster.owner_of(HASH_TAG).await;
    cluster.nodes[home].kill();
    // The first operation finds the node gone; the link goes down and fails fast.
    assert!(state.count().await.is_err());
    eventually("the backend to be down", || async { up.get() == 0.0 }).await;
    assert!(state.count().await.is_err());

    // The node comes back (without its data: nothing here persists) with its slots.
    cluster.nodes[home].restart().await;
    cluster.settled().await;
    eventually("operations to succeed again", || async {
        state.insert(&listing(2), LIFETIME, LIFETIME).await.is_ok()
    })
    .await;
    assert_eq!(up.get(), 1.0);
    assert_eq!(state.get("id-2").await.unwrap(), Some(listing(2)));
}

#[actix_web::test]
async fn operations_go_on_once_a_replica_takes_over_from_the_failed_slot_master() {
    let Some(mut cluster) = RedisCluster::start_with_replicas(1).await else {
        return;
    };
    let (state, up) = cluster_state(&cluster);
    assert!(state.insert(&listing(1), LIFETIME, LIFETIME).await.unwrap());
    let home = cluster.owner_of(HASH_TAG).await;
    // What a failover keeps is what was replicated (SPEC §12): wait for the replica to have it.
    cluster.replicated(home).await;

    cluster.nodes[home].kill();
    eventually("the replica to take over the slot", || async {
        state.insert(&listing(2), LIFETIME, LIFETIME).await.is_ok()
    })
    .await;
    assert_eq!(state.get("id-1").await.unwrap(), Some(listing(1)));
    assert_eq!(state.get("id-2").await.unwrap(), Some(listing(2)));
    assert_eq!(up.get(), 1.0);
}

#[actix_web::test]
async fn scripts_are_reloaded_on_the_slot_master_while_another_node_is_silent() {
    let Some(cluster) = RedisCluster::start().await else {
        return;
    };
    let (state, up) = cluster_state(&cluster);
    assert!(state.insert(&listing(1), LIFETIME, LIFETIME).await.unwrap());
    let home = cluster.owner_of(HASH_TAG).await;

    // A node that holds none of the gateway's keys has gone silent (a host that vanished: the
    // cluster client still holds its connection), and the slot's master has no scripts (as a
    // replica just promoted by a failover): NOSCRIPT, and a reload that must not wait for
    // every node.
    let other = (home + 1) % cluster.nodes.len();
    cluster.nodes[other].freeze(true);
    let _: () = cluster.ask(home, redis::cmd("SCRIPT").arg("FLUSH")).await;

    assert!(state.insert(&listing(2), LIFETIME, LIFETIME).await.unwrap());
    assert_eq!(state.remove("ticket-1").await.unwrap(), Some(listing(1)));
    assert_eq!(up.get(), 1.0);
}

#[actix_web::test]
async fn a_silent_node_does_not_keep_the_backend_from_connecting() {
    let Some(cluster) = RedisCluster::start().await else {
        return;
    };
    let home = cluster.owner_of(HASH_TAG).await;
    // A seed node that accepts connections and never answers (a vanished host) holds up each
    // round of connecting by connect_timeout_ms.
    cluster.nodes[(home + 1) % cluster.nodes.len()].freeze(true);

    let (state, up) = cluster_state(&cluster);
    eventually("the backend to connect", || async {
        state.insert(&listing(1), LIFETIME, LIFETIME).await.is_ok()
    })
    .await;
    assert_eq!(up.get(), 1.0);
    assert_eq!(state.get("id-1").await.unwrap(), Some(listing(1)));
}
