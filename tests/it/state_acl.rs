//! The least-privilege ACL user that docs/state.md gives (SPEC §12), read from the document
//! itself and set on a real server and on a real cluster: the backend keeps its whole contract
//! and runs its outbox (scripts that publish, a subscription that hears them) as that user, and
//! the user can touch nothing outside the key prefix.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use authlete_gateway::config::{RedisSettings, Secret, SecretList};
use authlete_gateway::state::redis::RedisState;
use authlete_gateway::state::seal::Sealer;
use authlete_gateway::state::{OutboxKind, OutboxStore};

use crate::state::{guards, policy, whole_contract, DECISION_KEY, LEASE, SECRET};
use crate::support::{eventually, RedisCluster, RedisServer};

pub(crate) const PASSWORD: &str = "acl-test-password";

/// The `ACL SETUSER` lines of docs/state.md that start with `prefix`, as commands.
/// Creates the ACL user docs/state.md documents, on a server whose default user is the admin.
pub(crate) async fn create_documented_user(server: &RedisServer) {
    let mut admin = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    for cmd in documented("ACL SETUSER gateway reset ") {
        let _: () = cmd.query_async(&mut admin).await.unwrap();
    }
}

pub(crate) fn documented(prefix: &str) -> Vec<redis::Cmd> {
    let doc = include_str!("../../docs/state.md");
    let lines: Vec<redis::Cmd> = doc
        .lines()
        .filter(|l| l.starts_with(prefix))
        .map(|line| {
            let mut cmd = redis::Cmd::new();
            for word in line.replace("PASSWORD", PASSWORD).split_whitespace() {
                cmd.arg(word);
            }
            cmd
        })
        .collect();
    assert!(!lines.is_empty(), "docs/state.md gives `{prefix}`");
    lines
}

fn settings(cluster: bool, urls: Vec<String>) -> RedisSettings {
    let with_user = |url: &String| {
        Secret::new(url.replace("redis://", &format!("redis://gateway:{PASSWORD}@")))
    };
    let mut s = RedisSettings {
        key_hash_secret: Some(Secret::new(SECRET)),
        lease: LEASE,
        cluster,
        ..RedisSettings::default()
    };
    if cluster {
        s.urls = SecretList(urls.iter().map(with_user).collect());
    } else {
        s.url = urls.first().map(with_user);
    }
    s
}

fn backend(settings: &RedisSettings) -> RedisState {
    let up = prometheus::Gauge::new("up", "up").unwrap();
    let sealer = Sealer::new(&[DECISION_KEY]);
    RedisState::new(settings, policy(), guards(), sealer, up).unwrap()
}

/// One outbox message stored, leased, renewed and ended, and the nudge an enqueue publishes
/// heard on the backend's subscription.
async fn outbox_runs(state: &RedisState) {
    const KIND: OutboxKind = OutboxKind::Notification;
    let expires = || SystemTime::now() + Duration::from_secs(600);
    let id = state.message_id(KIND, "ticket-1");
    assert!(state
        .enqueue(KIND, &id, b"m", expires(), None)
        .await
        .unwrap());
    assert_eq!(state.claim(KIND, 10).await.unwrap().claimed.len(), 1);
    assert!(state.renew(KIND, &id).await.unwrap());
    assert!(state.finish(KIND, &id).await.unwrap());

    // The subscription connects in the background: enqueue until one nudge is heard.
    let nudges = state.nudges();
    let sent = AtomicU64::new(0);
    eventually("a nudge heard through the subscription", || async {
        let n = sent.fetch_add(1, Ordering::SeqCst);
        let id = state.message_id(KIND, &format!("nudge-{n}"));
        assert!(state
            .enqueue(KIND, &id, b"m", expires(), None)
            .await
            .unwrap());
        let heard = tokio::time::timeout(Duration::from_millis(100), nudges.next());
        heard.await.is_ok()
    })
    .await;
}

/// What the documented user may not do, asked as that user on `url`.
async fn assert_confined(url: &str) {
    let url = url.replace("redis://", &format!("redis://gateway:{PASSWORD}@"));
    let mut c = redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    for refused in [
        redis::cmd("GET").arg("other:key").clone(),
        redis::cmd("CONFIG").arg("GET").arg("requirepass").clone(),
        redis::cmd("FLUSHALL").clone(),
        redis::cmd("PUBLISH").arg("other").arg("x").clone(),
    ] {
        let answer = refused.query_async::<redis::Value>(&mut c).await;
        let e = answer.expect_err("refused");
        assert_eq!(e.code(), Some("NOPERM"), "{e}");
    }
    let allowed: redis::RedisResult<i64> = redis::cmd("PUBLISH")
        .arg("{agw}:outbox")
        .arg("x")
        .query_async(&mut c)
        .await;
    assert!(allowed.is_ok(), "{allowed:?}");
}

#[actix_web::test]
async fn the_documented_acl_user_keeps_the_contract_and_nothing_more() {
    let Some(server) = RedisServer::start().await else {
        return;
    };
    create_documented_user(&server).await;
    let state = backend(&settings(false, vec![server.url.clone()]));
    whole_contract(&state, |_| {}).await;
    outbox_runs(&state).await;
    assert_confined(&server.url).await;
}

#[actix_web::test]
async fn the_documented_acl_user_keeps_the_contract_on_a_cluster() {
    let Some(cluster) = RedisCluster::start().await else {
        return;
    };
    for i in 0..cluster.nodes.len() {
        for cmd in documented("ACL SETUSER gateway ") {
            let _: () = cluster.ask(i, &mut cmd.clone()).await;
        }
    }
    let state = backend(&settings(true, cluster.urls()));
    whole_contract(&state, |_| {}).await;
    outbox_runs(&state).await;
    let home = cluster.owner_of("{agw}").await;
    assert_confined(&cluster.nodes[home].url).await;
}
