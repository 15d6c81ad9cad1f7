//! Long polling at the token endpoint (SPEC §14, CIBA Core §10.1), through real HTTP: a poll
//! Authlete answers `authorization_pending` is held until the request is decided — on this
//! replica or, through Redis, on another — or until the timeout, shutdown or the client's
//! disconnect; the bound on parked polls; and how few token calls Authlete sees.

use std::io::Write;
use std::time::{Duration, Instant};

use authlete_gateway::config::{Secret, Settings, StateBackend};
use futures_util::StreamExt;
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

const POLL: (&str, &str) = ("poll-client", "poll-secret");
/// The emulator's `interval` for the poll client.
const INTERVAL: Duration = Duration::from_secs(5);
const PARKED: &str = "gateway_long_polls_parked";
const TOKEN_OK: &str = r#"gateway_authlete_requests_total{action="OK",api="token"}"#;

fn wakeups(cause: &str) -> String {
    format!(r#"gateway_long_poll_wakeups_total{{cause="{cause}"}}"#)
}

fn long_polling(s: &mut Settings, timeout_secs: u64) {
    s.ciba.long_polling = true;
    s.ciba.long_poll_timeout = Duration::from_secs(timeout_secs);
}

async fn parked(gw: &TestGateway, count: f64) {
    eventually(&format!("{count} parked poll(s)"), || async {
        sample(&gw.metrics().await, PARKED) == count
    })
    .await;
}

/// Token calls the gateway made: every series of `/auth/token` calls, whatever the answer.
async fn token_calls(gw: &TestGateway) -> f64 {
    let metrics = gw.metrics().await;
    metrics
        .lines()
        .filter(|line| line.starts_with("gateway_authlete_requests_total{"))
        .filter(|line| line.contains(r#"api="token""#))
        .filter_map(|line| line.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum()
}

async fn auth_req_id(gw: &TestGateway) -> String {
    let ack = gw.start_ciba(POLL, "").await;
    ack["auth_req_id"].as_str().unwrap().to_owned()
}

async fn approve_the_pending_request(gw: &TestGateway) {
    let token = gw.pending().await[0]["decision_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = gw.decide(&token, r#"{"decision":"approve"}"#).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
}

#[actix_web::test]
async fn a_poll_parked_before_the_approval_gets_the_tokens_right_after_it_in_two_token_calls() {
    let gw = TestGateway::start_embedded(|s| long_polling(s, 30)).await;
    let id = auth_req_id(&gw).await;

    // The client polls continuously: each answer is followed by the next poll at once.
    let client = async {
        let mut answers = Vec::new();
        loop {
            let reply = gw.poll(POLL, &id).await;
            let done = reply.status == 200;
            answers.push((Instant::now(), reply));
            if done || answers.len() > 3 {
                return answers;
            }
        }
    };
    let device = async {
        parked(&gw, 1.0).await;
        // Parked, not answered: nothing has told the gateway anything yet.
        assert_eq!(token_calls(&gw).await, 1.0);
        let approving = Instant::now();
        approve_the_pending_request(&gw).await;
        approving
    };
    let (answers, approving) = futures_util::join!(client, device);

    assert_eq!(answers.len(), 1, "one poll, held until the approval");
    let (answered, reply) = &answers[0];
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.assert_no_store_json();
    assert!(reply.json()["access_token"].is_string(), "{}", reply.body);
    assert!(*answered > approving, "not before the approval");
    let after = answered.duration_since(approving);
    assert!(after < INTERVAL / 2, "{after:?} after the approval");

    let metrics = gw.metrics().await;
    assert_eq!(
        token_calls(&gw).await,
        2.0,
        "at most 2 token calls per flow"
    );
    assert_eq!(sample(&metrics, TOKEN_OK), 1.0);
    assert_eq!(sample(&metrics, &wakeups("decision")), 1.0);
    assert_eq!(sample(&metrics, &wakeups("timeout")), 0.0);
    assert_eq!(sample(&metrics, PARKED), 0.0);
    assert_eq!(
        sample(&metrics, "gateway_decision_to_token_seconds_count"),
        1.0
    );
    assert_eq!(sample(&metrics, "gateway_slow_down_total"), 0.0);
    gw.stop().await;
}

#[actix_web::test]
async fn a_parked_poll_is_answered_pending_after_the_configured_timeout_and_not_before() {
    let gw = TestGateway::start_embedded(|s| long_polling(s, 7)).await;
    let id = auth_req_id(&gw).await;
    let client = gw.poll(POLL, &id);
    let clock = async {
        parked(&gw, 1.0).await;
        gw.clock.advance(Duration::from_secs(6));
        // Still parked one second short of the timeout (the answer would have ended it).
        parked(&gw, 1.0).await;
        assert_eq!(sample(&gw.metrics().await, &wakeups("timeout")), 0.0);
        gw.clock.advance(Duration::from_secs(1));
    };
    let (reply, ()) = futures_util::join!(client, clock);
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["error"], "authorization_pending");
    let metrics = gw.metrics().await;
    assert_eq!(sample(&metrics, &wakeups("timeout")), 1.0);
    assert_eq!(sample(&metrics, PARKED), 0.0);
    assert_eq!(
        token_calls(&gw).await,
        1.0,
        "a timeout asks Authlete nothing more"
    );

    // The parked poll counted as one poll (SPEC §3.2): 7 s after it, the next is in time.
    let next = gw.poll(POLL, &id);
    let answer_it = async {
        parked(&gw, 1.0).await;
        approve_the_pending_request(&gw).await;
    };
    let (next, ()) = futures_util::join!(next, answer_it);
    assert_eq!(next.status, 200, "{}", next.body);
    gw.stop().await;
}

/// Sends a CIBA poll on a raw connection and returns it unread.
fn raw_poll(gw: &TestGateway, auth_req_id: &str) -> std::net::TcpStream {
    let address = gw.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    let body =
        format!("grant_type=urn%3Aopenid%3Aparams%3Agrant-type%3Aciba&auth_req_id={auth_req_id}");
    let request = format!(
        "POST /token HTTP/1.1\r\nHost: {address}\r\nAuthorization: {}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        basic(POLL.0, POLL.1),
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    stream
}

#[actix_web::test]
async fn a_poll_parked_at_the_requests_expiry_asks_authlete_again_and_gets_expired_token() {
    let gw = TestGateway::start_embedded(|s| {
        long_polling(s, 60);
        s.emulator.auth_req_id_lifetime = Duration::from_secs(20);
    })
    .await;
    let id = auth_req_id(&gw).await;
    let (reply, ()) = futures_util::join!(gw.poll(POLL, &id), async {
        parked(&gw, 1.0).await;
        // The request's deadline, a poll request's expiry, falls before the poll's timeout.
        gw.clock.advance(Duration::from_secs(20));
    });
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["error"], "expired_token");
    let metrics = gw.metrics().await;
    assert_eq!(sample(&metrics, &wakeups("expiry")), 1.0);
    assert_eq!(sample(&metrics, &wakeups("timeout")), 0.0);
    assert_eq!(token_calls(&gw).await, 2.0);
    gw.stop().await;
}

#[actix_web::test]
async fn a_client_that_disconnects_frees_its_place() {
    let gw = TestGateway::start_embedded(|s| {
        long_polling(s, 30);
        s.ciba.max_parked_polls = 1;
    })
    .await;
    let id = auth_req_id(&gw).await;
    let stream = raw_poll(&gw, &id);
    parked(&gw, 1.0).await;
    drop(stream);
    parked(&gw, 0.0).await;
    let metrics = gw.metrics().await;
    assert_eq!(sample(&metrics, &wakeups("disconnect")), 1.0);
    assert_eq!(sample(&metrics, &wakeups("timeout")), 0.0);

    // Its one place is free again: the next poll parks, and the approval answers it.
    gw.clock.advance(INTERVAL);
    let (reply, ()) = futures_util::join!(gw.poll(POLL, &id), async {
        parked(&gw, 1.0).await;
        approve_the_pending_request(&gw).await;
    });
    assert_eq!(reply.status, 200, "{}", reply.body);
    gw.stop().await;
}

#[actix_web::test]
async fn beyond_the_bound_a_poll_is_answered_at_once_as_without_long_polling() {
    let gw = TestGateway::start_embedded(|s| {
        long_polling(s, 30);
        s.ciba.max_parked_polls = 1;
    })
    .await;
    let first = auth_req_id(&gw).await;
    let second = auth_req_id(&gw).await;
    let held = gw.poll(POLL, &first);
    let others = async {
        parked(&gw, 1.0).await;
        let started = Instant::now();
        let reply = gw.poll(POLL, &second).await;
        let took = started.elapsed();
        assert_eq!(reply.status, 400);
        assert_eq!(reply.json()["error"], "authorization_pending");
        assert!(took < Duration::from_secs(2), "answered at once: {took:?}");
        assert_eq!(sample(&gw.metrics().await, PARKED), 1.0);
        // The held poll ends with the timeout.
        gw.clock.advance(Duration::from_secs(30));
    };
    let (held, ()) = futures_util::join!(held, others);
    assert_eq!(held.json()["error"], "authorization_pending");
    assert_eq!(sample(&gw.metrics().await, &wakeups("timeout")), 1.0);
    gw.stop().await;
}

#[actix_web::test]
async fn shutdown_answers_parked_polls_at_once() {
    let gw = TestGateway::start_embedded(|s| {
        long_polling(s, 60);
        s.server.shutdown_timeout = Duration::from_secs(20);
    })
    .await;
    let id = auth_req_id(&gw).await;
    let stopping = async {
        parked(&gw, 1.0).await;
        let started = Instant::now();
        gw.stop().await;
        started.elapsed()
    };
    let (reply, stopped_in) = futures_util::join!(gw.poll(POLL, &id), stopping);
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["error"], "authorization_pending");
    assert!(
        stopped_in < Duration::from_secs(10),
        "the parked poll did not hold up shutdown: {stopped_in:?}"
    );
}

#[actix_web::test]
async fn without_long_polling_a_pending_poll_is_answered_at_once() {
    let gw = TestGateway::start_embedded(|_| {}).await;
    let id = auth_req_id(&gw).await;
    let reply = gw.poll(POLL, &id).await;
    assert_eq!(reply.json()["error"], "authorization_pending");
    let metrics = gw.metrics().await;
    assert_eq!(sample(&metrics, PARKED), 0.0);
    for cause in [
        "decision",
        "deadline",
        "timeout",
        "expiry",
        "disconnect",
        "shutdown",
    ] {
        assert_eq!(sample(&metrics, &wakeups(cause)), 0.0, "{cause}");
    }
    gw.stop().await;
}

// ----------------------------------------------------------------------------------------------
// Across replicas, through a real redis-server or Redis Cluster.

const KEY_HASH_SECRET: &str = "the fleet's key hash secret, 32+ bytes";
const WAKE_CHANNEL: &str = "{agw}:wake";

fn on_redis(s: &mut Settings, redis: &impl SharedRedis) {
    s.state.backend = StateBackend::Redis;
    redis.point(s);
    s.state.redis.key_hash_secret = Some(Secret::new(KEY_HASH_SECRET));
    s.state.redis.command_timeout = Duration::from_millis(300);
    long_polling(s, 30);
}

fn token_answer(action: &str, content: &str) -> Value {
    json!({
        "resultCode": "A200000",
        "resultMessage": "[A200000] detail",
        "action": action,
        "responseContent": content
    })
}

/// Subscribers of the wake-up channel on one server (on a cluster: on that node alone).
async fn subscribers_on(server: &RedisServer) -> i64 {
    let Ok(mut c) = server.client().get_multiplexed_async_connection().await else {
        return 0;
    };
    let numsub: (String, i64) = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg(WAKE_CHANNEL)
        .query_async(&mut c)
        .await
        .unwrap_or_default();
    numsub.1
}

/// Waits until `count` replicas subscribe to the wake-up channel on `servers`.
async fn subscribed(servers: &[RedisServer], count: i64) {
    eventually("the replicas' wake-up subscriptions", || async {
        let mut found = 0;
        for server in servers {
            found += subscribers_on(server).await;
        }
        found >= count
    })
    .await;
}

/// Two replicas on `redis`, A holding a poll and B applying the decision; `watch` is a server
/// on which the test itself subscribes to the channel, to read what travels on it.
async fn a_decision_on_b_wakes_the_poll_held_on_a(
    redis: &impl SharedRedis,
    servers: &[RedisServer],
    watch: &RedisServer,
) {
    let a = TestGateway::start_with(|s| on_redis(s, redis)).await;
    let authlete = a.authlete.uri().parse().unwrap();
    let b = TestGateway::start_on(MockServer::start().await, |s| {
        on_redis(s, redis);
        s.authlete.base_url = Some(authlete);
    })
    .await;
    // Authlete: pending until the decision, then the tokens.
    let pending = token_answer("BAD_REQUEST", r#"{"error":"authorization_pending"}"#);
    Mock::given(method("POST"))
        .and(path(api_path("auth/token")))
        .respond_with(ResponseTemplate::new(200).set_body_json(pending))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&a.authlete)
        .await;
    let tokens = r#"{"access_token":"at-1","token_type":"Bearer","expires_in":3600}"#;
    a.answer("auth/token", token_answer("OK", tokens)).await;
    a.answer(
        "backchannel/authentication/complete",
        json!({"resultCode": "A194001", "resultMessage": "ok", "action": "NO_ACTION"}),
    )
    .await;
    a.issue_req_1(user_identification("alice@example.com"))
        .await;
    subscribed(servers, 2).await;
    let mut watcher = watch.client().get_async_pubsub().await.unwrap();
    watcher.subscribe(WAKE_CHANNEL).await.unwrap();

    let held = a.poll(("client-1", "secret-1"), "req-1");
    let decide_on_b = async {
        parked(&a, 1.0).await;
        let listed = b.pending().await;
        let body = json!({"request_id": listed[0]["request_id"], "decision": "approve"});
        let url = format!("{}/console/decisions", b.admin);
        let approving = Instant::now();
        let reply = b.post_json(&url, &body.to_string(), &[]).await;
        assert_eq!(reply.status, 204, "{}", reply.body);
        approving
    };
    let (reply, approving) = futures_util::join!(held, decide_on_b);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["access_token"], "at-1");
    let after = approving.elapsed();
    assert!(after < INTERVAL / 2, "{after:?}");
    assert_eq!(a.received("auth/token").await.len(), 2);
    let metrics = a.metrics().await;
    assert_eq!(sample(&metrics, &wakeups("decision")), 1.0);
    assert_eq!(sample(&metrics, &wakeups("timeout")), 0.0);
    assert_eq!(sample(&metrics, PARKED), 0.0);
    let published = r#"gateway_state_operations_total{op="wake_publish",result="ok"}"#;
    assert_eq!(sample(&b.metrics().await, published), 1.0);

    // The wake-up names the request only by a keyed digest: neither the auth_req_id nor its
    // plain SHA-256.
    let message = watcher.on_message().next().await.unwrap();
    let payload: String = message.get_payload().unwrap();
    let digest = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(b"req-1"))
    };
    assert!(payload.starts_with("decision "), "{payload}");
    assert!(
        !payload.contains("req-1") && !payload.contains(&digest),
        "{payload}"
    );
    a.stop().await;
    b.stop().await;
}

#[actix_web::test]
async fn a_poll_parked_on_one_replica_is_woken_by_a_decision_applied_on_another() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let servers = std::slice::from_ref(&redis);
    a_decision_on_b_wakes_the_poll_held_on_a(&redis, servers, &redis).await;
}

#[actix_web::test]
async fn on_a_cluster_the_wake_up_reaches_a_replica_subscribed_on_another_node() {
    let Some(cluster) = RedisCluster::start().await else {
        return;
    };
    // The replicas subscribe on the first seed node; B publishes on the hash tag's node, and
    // the test reads on a third: the cluster bus carries it to both.
    let home = cluster.owner_of("{agw}").await;
    let n = cluster.nodes.len();
    let seeds: Vec<String> = (1..=n)
        .map(|i| cluster.nodes[(home + i) % n].url.clone())
        .collect();
    let watch = &cluster.nodes[(home + 2) % n];
    a_decision_on_b_wakes_the_poll_held_on_a(&seeds, &cluster.nodes, watch).await;
}

#[actix_web::test]
async fn the_documented_acl_user_publishes_and_hears_wake_ups() {
    let Some(server) = RedisServer::start().await else {
        return;
    };
    crate::state_acl::create_documented_user(&server).await;
    let password = crate::state_acl::PASSWORD;
    let as_gateway = server
        .url
        .replace("redis://", &format!("redis://gateway:{password}@"));
    let servers = std::slice::from_ref(&server);
    a_decision_on_b_wakes_the_poll_held_on_a(&as_gateway, servers, &server).await;
}

#[actix_web::test]
async fn a_replica_that_lost_its_subscription_subscribes_again() {
    let Some(mut redis) = RedisServer::start().await else {
        return;
    };
    let gw = TestGateway::start_with(|s| on_redis(s, &redis)).await;
    subscribed(std::slice::from_ref(&redis), 1).await;
    let port = redis.port;
    redis.kill();
    let redis = RedisServer::start_on(port).await;
    subscribed(std::slice::from_ref(&redis), 1).await;
    gw.stop().await;
}
