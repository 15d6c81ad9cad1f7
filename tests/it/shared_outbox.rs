//! The fleet's outbox on the `redis` state backend (SPEC §12 "Outbox"), through real HTTP and
//! a real `redis-server`: a stopping replica hands its deliveries back at once, a full outbox
//! refuses decisions before Authlete is called, the device webhook message is stored before the
//! acknowledgement, and what Redis holds is sealed.

use std::time::{Duration, Instant};

use authlete_gateway::config::{Secret, Settings, StateBackend};
use serde_json::{json, Value};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;
use crate::webhook::webhook_channel;

const COMPLETE: &str = "backchannel/authentication/complete";
const NOTIFICATION_TOKEN: &str = "client-notification-token-789";
/// The places reserved by a replica that nobody will ever enqueue into.
const NOTIFICATION_PLACES: &str = "{agw}:outbox:notification:places";
const WEBHOOK_PLACES: &str = "{agw}:outbox:webhook:places";

/// One fleet: the same Redis, key hash secret and decision keys (the test settings' own).
pub(crate) fn fleet(s: &mut Settings, redis: &impl SharedRedis) {
    s.state.backend = StateBackend::Redis;
    redis.point(s);
    s.state.redis.key_hash_secret = Some(Secret::new("the fleet's key hash secret, 32+ bytes"));
    s.state.redis.command_timeout = Duration::from_millis(300);
    s.notifications.allowed_networks = vec!["127.0.0.0/8".parse().unwrap()];
    s.notifications.allow_insecure_http = true;
}

/// Issues `req-1` for a ping client on `gw` and approves it there; the decision's answer.
async fn approve_ping(gw: &TestGateway, receiver: &MockServer) -> Reply {
    let mut identification = user_identification("alice@example.com");
    identification["deliveryMode"] = json!("PING");
    gw.issue_req_1(identification).await;
    gw.answer(COMPLETE, ping_notification(receiver, NOTIFICATION_TOKEN))
        .await;
    decide_listed(gw).await
}

/// Approves the request the console lists first.
async fn decide_listed(gw: &TestGateway) -> Reply {
    let listed = gw.pending().await;
    let token = listed[0]["decision_token"].as_str().unwrap().to_owned();
    gw.decide(&token, r#"{"decision": "approve"}"#).await
}

/// A receiver whose first request hangs for a minute and whose later ones get 204.
async fn hanging_once() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(204).set_delay(Duration::from_secs(60)))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    server
}

async fn redis_command(redis: &RedisServer, command: &mut redis::Cmd) -> redis::Value {
    let mut c = redis
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    command.query_async(&mut c).await.unwrap()
}

#[actix_web::test]
async fn a_stopping_replica_hands_its_notification_back_and_another_delivers_it_at_once() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    hand_back_over_a_fleet_on(&redis).await;
}

#[actix_web::test]
async fn on_a_redis_cluster_a_stopping_replica_hands_its_notification_back_to_another() {
    let Some(cluster) = RedisCluster::start().await else {
        return;
    };
    hand_back_over_a_fleet_on(&cluster).await;
}

/// Replica A approves a ping request whose notification hangs, stops, and B delivers it.
async fn hand_back_over_a_fleet_on(redis: &impl SharedRedis) {
    let settings = |s: &mut Settings| {
        fleet(s, redis);
        s.state.redis.lease = Duration::from_secs(30);
        s.notifications.timeout = Duration::from_secs(60);
        s.server.shutdown_timeout = Duration::from_secs(2);
    };
    let receiver = hanging_once().await;
    let a = TestGateway::start_with(settings).await;
    let reply = approve_ping(&a, &receiver).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    // A holds the lease, its attempt hanging; B joins only now, so it cannot have claimed it.
    received_at_least(&receiver, 1).await;
    let b = TestGateway::start_on(MockServer::start().await, settings).await;
    let stopped = Instant::now();
    a.stop().await;
    let requests = received_at_least(&receiver, 2).await;
    assert!(
        stopped.elapsed() < Duration::from_secs(15),
        "handed back, not left to a 30 s lease: {:?}",
        stopped.elapsed()
    );
    let bearer = format!("Bearer {NOTIFICATION_TOKEN}");
    assert_eq!(
        requests[1].headers["authorization"].to_str().unwrap(),
        bearer
    );
    assert_eq!(requests[1].body, requests[0].body);
    let metrics = b.metrics().await;
    let delivered = r#"gateway_notifications_total{mode="ping",outcome="delivered"}"#;
    eventually("B to count the delivery", || async {
        sample(&b.metrics().await, delivered) == 1.0
    })
    .await;
    let reclaimed = r#"gateway_outbox_reclaimed_total{kind="notification"}"#;
    assert_eq!(
        sample(&metrics, reclaimed),
        0.0,
        "a hand-back is no takeover"
    );
    b.stop().await;
}

#[actix_web::test]
async fn a_full_notification_outbox_refuses_the_decision_before_authlete_is_called() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let receiver = receiver(204).await;
    let gw = TestGateway::start_with(|s| {
        fleet(s, &redis.url);
        s.state.redis.outbox_capacity = 1;
    })
    .await;
    // Another replica's reservation, for a /complete call still under way, fills it.
    let far = "99999999999999";
    redis_command(
        &redis,
        redis::cmd("ZADD")
            .arg(NOTIFICATION_PLACES)
            .arg(far)
            .arg("r"),
    )
    .await;
    let reply = approve_ping(&gw, &receiver).await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert!(reply.header("retry-after").is_some());
    assert!(
        gw.received(COMPLETE).await.is_empty(),
        "Authlete not called"
    );

    redis_command(&redis, redis::cmd("ZREM").arg(NOTIFICATION_PLACES).arg("r")).await;
    let reply = decide_listed(&gw).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    assert_eq!(gw.received(COMPLETE).await.len(), 1);
    received_at_least(&receiver, 1).await;
    gw.stop().await;
}

#[actix_web::test]
async fn a_stored_notification_holds_no_token_endpoint_or_body_in_the_clear() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).insert_header("Retry-After", "300"))
        .mount(&receiver)
        .await;
    let gw = TestGateway::start_with(|s| fleet(s, &redis.url)).await;
    let reply = approve_ping(&gw, &receiver).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    received_at_least(&receiver, 1).await;
    let names: Vec<String> = eventually("the notification to wait for its retry", || async {
        let keys = redis_command(&redis, redis::cmd("KEYS").arg("*")).await;
        let names: Vec<String> = redis::from_redis_value(keys).unwrap();
        names
            .iter()
            .any(|n| n.starts_with("{agw}:outbox:notification:msg:"))
            .then_some(names)
    })
    .await;
    let mut stored = Vec::new();
    for name in &names {
        let kind = redis_command(&redis, redis::cmd("TYPE").arg(name)).await;
        let value = match redis::from_redis_value::<String>(kind).unwrap().as_str() {
            "string" => redis_command(&redis, redis::cmd("GET").arg(name)).await,
            "hash" => redis_command(&redis, redis::cmd("HGETALL").arg(name)).await,
            "zset" => redis_command(&redis, redis::cmd("ZRANGE").arg(name).arg(0).arg(-1)).await,
            _ => continue,
        };
        stored.extend_from_slice(format!("{name} {value:?}").as_bytes());
    }
    let stored = String::from_utf8_lossy(&stored);
    let receiver_address = receiver.address().to_string();
    for secret in [
        NOTIFICATION_TOKEN,
        &receiver_address,
        "auth_req_id",
        "ticket-1",
    ] {
        assert!(!stored.contains(secret), "{secret} is stored in the clear");
    }
    gw.stop().await;
}

#[actix_web::test]
async fn a_backchannel_request_whose_webhook_message_cannot_be_stored_gets_503() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let device = receiver(204).await;
    let gw = TestGateway::start_embedded(|s| {
        fleet(s, &redis.url);
        webhook_channel(s, &device);
        s.state.redis.outbox_capacity = 1;
    })
    .await;
    let far = "99999999999999";
    redis_command(
        &redis,
        redis::cmd("ZADD").arg(WEBHOOK_PLACES).arg(far).arg("r"),
    )
    .await;
    let body = "scope=openid&login_hint=alice%40example.com";
    let client = [("Authorization", basic("poll-client", "poll-secret"))];
    let headers: Vec<(&str, &str)> = client.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let reply = gw
        .post_form("/backchannel/authentication", body, &headers)
        .await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.json(), json!({"error": "temporarily_unavailable"}));
    assert!(gw.pending().await.is_empty(), "nothing listed");

    redis_command(&redis, redis::cmd("ZREM").arg(WEBHOOK_PLACES).arg("r")).await;
    let reply = gw
        .post_form("/backchannel/authentication", body, &headers)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let requests = received_at_least(&device, 1).await;
    let message: Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(message["type"], "authentication_request");
    gw.stop().await;
}

#[actix_web::test]
async fn a_notification_redis_cannot_store_after_complete_is_delivered_by_the_replica_itself() {
    let Some(mut redis) = RedisServer::start().await else {
        return;
    };
    let receiver = receiver(204).await;
    let gw = TestGateway::start_with(|s| fleet(s, &redis.url)).await;
    let mut identification = user_identification("alice@example.com");
    identification["deliveryMode"] = json!("PING");
    gw.issue_req_1(identification).await;
    let slow = ResponseTemplate::new(200)
        .set_body_json(ping_notification(&receiver, NOTIFICATION_TOKEN))
        .set_delay(Duration::from_millis(1000));
    answer(&gw.authlete, COMPLETE, slow).await;
    // Redis goes away while Authlete is answering: the place was reserved, the store fails.
    let lose_redis = async {
        eventually("a /complete call", || async {
            !gw.received(COMPLETE).await.is_empty()
        })
        .await;
        redis.kill();
    };
    let (reply, ()) = futures_util::future::join(decide_listed(&gw), lose_redis).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    let requests = received_at_least(&receiver, 1).await;
    let bearer = format!("Bearer {NOTIFICATION_TOKEN}");
    assert_eq!(
        requests[0].headers["authorization"].to_str().unwrap(),
        bearer
    );
    let delivered = r#"gateway_notifications_total{mode="ping",outcome="delivered"}"#;
    eventually("the delivery to be counted", || async {
        sample(&gw.metrics().await, delivered) == 1.0
    })
    .await;
    gw.stop().await;
}
