//! Deadlines and completion claims on the `redis` state backend (SPEC §5.3, §12): the deadline
//! of a ping request is stored with its registry entry and run by whichever replica is there
//! when it falls due, taken over when the replica running it is killed, and a decision and the
//! deadline never both reach Authlete.

use std::time::Duration;

use authlete_gateway::config::{Secret, Settings, StateBackend};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

const COMPLETE: &str = "backchannel/authentication/complete";
const KEY_HASH_SECRET: &str = "the fleet's key hash secret, 32+ bytes";
const NOTIFICATION_TOKEN: &str = "client-notification-token-789";
/// The request's lifetime: with a 1 s lease its deadline falls due 2 s after issue
/// (max(lifetime − 2 × lease, lifetime / 2)), before 0.8 × lifetime.
const LIFETIME_SECS: i64 = 4;

fn on_redis(s: &mut Settings, url: &str) {
    s.state.backend = StateBackend::Redis;
    s.state.redis.url = Some(Secret::new(url));
    s.state.redis.key_hash_secret = Some(Secret::new(KEY_HASH_SECRET));
    s.state.redis.command_timeout = Duration::from_millis(300);
    s.state.redis.lease = Duration::from_millis(1000);
    s.notifications.allowed_networks = vec!["127.0.0.0/8".parse().unwrap()];
    s.notifications.allow_insecure_http = true;
}

/// Authlete identifies alice for a ping client and issues `req-1` for `LIFETIME_SECS`.
async fn mount_ping_request(authlete: &MockServer) {
    let mut identification = user_identification("alice@example.com");
    identification["deliveryMode"] = json!("PING");
    answer(
        authlete,
        "backchannel/authentication",
        ResponseTemplate::new(200).set_body_json(identification),
    )
    .await;
    let mut issued = issued("req-1", 5);
    issued["expiresIn"] = json!(LIFETIME_SECS);
    answer(
        authlete,
        "backchannel/authentication/issue",
        ResponseTemplate::new(200).set_body_json(issued),
    )
    .await;
}

/// A wiremock Authlete that issues the ping request `req-1`, answers the first `/complete`
/// with `first`, and every other one with a notification to the receiver it returns.
async fn ping_authlete(first: Option<ResponseTemplate>) -> (MockServer, MockServer) {
    let authlete = MockServer::start().await;
    mount_ping_request(&authlete).await;
    let receiver = receiver(204).await;
    if let Some(first) = first {
        Mock::given(method("POST"))
            .and(path(api_path(COMPLETE)))
            .respond_with(first)
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&authlete)
            .await;
    }
    answer(
        &authlete,
        COMPLETE,
        ResponseTemplate::new(200).set_body_json(ping_notification(&receiver, NOTIFICATION_TOKEN)),
    )
    .await;
    (authlete, receiver)
}

async fn start_request(base: &str) {
    let reply = send(
        base,
        "POST",
        "/backchannel/authentication",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some("scope=openid&login_hint=alice%40example.com"),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

async fn await_notification(receiver: &MockServer) -> Vec<wiremock::Request> {
    eventually("the ping notification", || async {
        let received = receiver.received_requests().await.unwrap_or_default();
        (!received.is_empty()).then_some(received)
    })
    .await
}

fn assert_failed_by_the_gateway(calls: &[Value]) {
    for call in calls {
        assert_eq!(call["ticket"], "ticket-1");
        assert_eq!(call["result"], "TRANSACTION_FAILED");
    }
}

#[actix_web::test]
async fn a_deadline_falls_due_on_the_replica_that_is_left() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let (authlete, receiver) = ping_authlete(None).await;
    let base_url: url::Url = authlete.uri().parse().unwrap();
    let a = TestGateway::start_on(authlete, |s| on_redis(s, &redis.url)).await;
    start_request(&a.base).await;
    // A stops before the deadline is due: the fleet, not A, owns it.
    a.stop().await;
    assert!(a.received(COMPLETE).await.is_empty());
    let b = TestGateway::start_on(MockServer::start().await, |s| {
        on_redis(s, &redis.url);
        s.authlete.base_url = Some(base_url);
    })
    .await;

    let delivered = await_notification(&receiver).await;
    assert_eq!(delivered.len(), 1);
    assert_eq!(
        delivered[0].headers.get("authorization").unwrap(),
        &format!("Bearer {NOTIFICATION_TOKEN}")
    );
    let calls = a.received(COMPLETE).await;
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_failed_by_the_gateway(&calls);
    eventually("the request to leave the fleet's list", || async {
        b.pending().await.is_empty()
    })
    .await;
    let metrics = b.metrics().await;
    assert_eq!(
        sample(
            &metrics,
            r#"gateway_device_decisions_total{decision="timeout"}"#
        ),
        1.0
    );
    assert_eq!(sample(&metrics, "gateway_deadlines_reclaimed_total"), 0.0);
    b.stop().await;
}

fn process_config(authlete: &str, redis: &str) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
public_url = "https://as.example.com"
workers = 1

[admin]
listen = "127.0.0.1:0"
console = true

[authlete]
backend = "remote"
base_url = "{authlete}"
service_id = "{SERVICE_ID}"
access_token = "service-access-token"

[[users.static]]
subject = "alice"
login_hints = ["alice@example.com"]

[device]
decision_keys = ["AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="]

[notifications]
allowed_networks = ["127.0.0.0/8"]
allow_insecure_http = true

[state]
backend = "redis"

[state.redis]
url = "{redis}"
key_hash_secret = "{KEY_HASH_SECRET}"
command_timeout_ms = 300
lease_ms = 1000
"#
    )
}

#[actix_web::test]
async fn a_deadline_whose_replica_is_killed_mid_call_is_taken_over_and_the_client_notified() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    // The first /complete hangs: its replica dies holding the deadline and the claim.
    let hangs = ResponseTemplate::new(503).set_delay(Duration::from_secs(60));
    let (authlete, receiver) = ping_authlete(Some(hangs)).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, process_config(&authlete.uri(), &redis.url)).unwrap();
    let (mut a, a_public, _) = GatewayProcess::spawn(&config);
    start_request(&a_public).await;
    eventually("the first replica's /complete", || async {
        let calls = authlete.received_requests().await.unwrap_or_default();
        calls.iter().any(|r| r.url.path() == api_path(COMPLETE))
    })
    .await;
    a.kill_9();

    let base_url: url::Url = authlete.uri().parse().unwrap();
    let b = TestGateway::start_on(MockServer::start().await, |s| {
        on_redis(s, &redis.url);
        s.authlete.base_url = Some(base_url);
    })
    .await;
    let delivered = await_notification(&receiver).await;
    assert_eq!(delivered.len(), 1);
    let calls: Vec<Value> = authlete
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path() == api_path(COMPLETE))
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(
        calls.len(),
        2,
        "the killed call and the takeover: {calls:?}"
    );
    assert_failed_by_the_gateway(&calls);
    let metrics = b.metrics().await;
    assert_eq!(sample(&metrics, "gateway_deadlines_reclaimed_total"), 1.0);
    assert_eq!(
        sample(
            &metrics,
            r#"gateway_device_decisions_total{decision="timeout"}"#
        ),
        1.0
    );
    eventually("the request to leave the fleet's list", || async {
        b.pending().await.is_empty()
    })
    .await;
    b.stop().await;
}

#[actix_web::test]
async fn a_decision_in_flight_on_one_replica_makes_the_other_answer_already_decided() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let a = TestGateway::start_with(|s| on_redis(s, &redis.url)).await;
    let base_url: url::Url = a.authlete.uri().parse().unwrap();
    let b = TestGateway::start_on(MockServer::start().await, |s| {
        on_redis(s, &redis.url);
        s.authlete.base_url = Some(base_url);
    })
    .await;
    a.issue_req_1(user_identification("alice@example.com"))
        .await;
    answer(
        &a.authlete,
        COMPLETE,
        ResponseTemplate::new(200)
            .set_body_json(
                json!({"resultCode": "A194001", "resultMessage": "ok", "action": "NO_ACTION"}),
            )
            .set_delay(Duration::from_millis(1500)),
    )
    .await;
    let listed = a.pending().await;
    let id = listed[0]["request_id"].clone();
    let body = json!({"request_id": id, "decision": "approve"}).to_string();
    let first = {
        let (a_admin, body) = (a.admin.clone(), body.clone());
        actix_web::rt::spawn(async move {
            send(
                &a_admin,
                "POST",
                "/console/decisions",
                &[("Content-Type", "application/json")],
                Some(&body),
            )
            .await
        })
    };
    eventually("the first decision's /complete", || async {
        !a.received(COMPLETE).await.is_empty()
    })
    .await;
    let url = format!("{}/console/decisions", b.admin);
    let second = b.post_json(&url, &body, &[]).await;
    assert_eq!(second.status, 409, "{}", second.body);
    assert_eq!(second.json(), json!({"error": "already_decided"}));
    assert_eq!(first.await.unwrap().status, 204);
    assert_eq!(
        a.received(COMPLETE).await.len(),
        1,
        "Authlete heard one decision"
    );
    a.stop().await;
    b.stop().await;
}

#[actix_web::test]
async fn a_stopping_replica_hands_its_deadline_back_at_once() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let lease = Duration::from_secs(30);
    // Authlete is unavailable for A: its deadline waits to retry (on its clock, which the test
    // does not move) while A renews the lease.
    let (authlete, receiver) = ping_authlete(Some(ResponseTemplate::new(503))).await;
    let base_url: url::Url = authlete.uri().parse().unwrap();
    let long_lease = |s: &mut Settings| {
        on_redis(s, &redis.url);
        s.state.redis.lease = lease;
    };
    // Two leases exceed the lifetime: the deadline falls due at half of it.
    let a = TestGateway::start_on(authlete, long_lease).await;
    start_request(&a.base).await;
    eventually("A's first /complete", || async {
        !a.received(COMPLETE).await.is_empty()
    })
    .await;
    let b = TestGateway::start_on(MockServer::start().await, |s| {
        long_lease(s);
        s.authlete.base_url = Some(base_url);
    })
    .await;

    let stopped = std::time::Instant::now();
    a.stop().await;
    await_notification(&receiver).await;
    assert!(
        stopped.elapsed() < lease / 2,
        "handed back, not left to its lease: {:?}",
        stopped.elapsed()
    );
    let calls = a.received(COMPLETE).await;
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_failed_by_the_gateway(&calls);
    let metrics = b.metrics().await;
    assert_eq!(sample(&metrics, "gateway_deadlines_reclaimed_total"), 0.0);
    b.stop().await;
}

#[actix_web::test]
async fn with_redis_unreachable_a_decision_gets_503_before_authlete_is_called() {
    let issuer = TestGateway::start().await;
    issuer
        .issue_req_1(user_identification("alice@example.com"))
        .await;
    let token = issuer.pending().await[0]["decision_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let closed = format!("redis://127.0.0.1:{}", free_port());
    let decider = TestGateway::start_with(|s| on_redis(s, &closed)).await;
    let reply = decider
        .decide(&token, &json!({"decision": "approve"}).to_string())
        .await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.json(), json!({"error": "temporarily_unavailable"}));
    assert!(reply.header("retry-after").is_some());
    assert!(decider.received(COMPLETE).await.is_empty());
    issuer.stop().await;
    decider.stop().await;
}

#[actix_web::test]
async fn a_deadline_call_authlete_refused_gives_the_claim_back_to_a_decision() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    // The deadline's call is refused; it then waits to retry, on a clock the test does not move.
    let (authlete, receiver) = ping_authlete(Some(ResponseTemplate::new(503))).await;
    let base_url: url::Url = authlete.uri().parse().unwrap();
    let a = TestGateway::start_on(authlete, |s| on_redis(s, &redis.url)).await;
    let b = TestGateway::start_on(MockServer::start().await, |s| {
        on_redis(s, &redis.url);
        s.authlete.base_url = Some(base_url);
    })
    .await;
    start_request(&a.base).await;
    let listed = b.pending().await;
    eventually("the deadline's refused /complete", || async {
        !a.received(COMPLETE).await.is_empty()
    })
    .await;

    let body = json!({"request_id": listed[0]["request_id"], "decision": "approve"}).to_string();
    let decided = b
        .post_json(&format!("{}/console/decisions", b.admin), &body, &[])
        .await;
    assert_eq!(decided.status, 204, "{}", decided.body);
    let calls = a.received(COMPLETE).await;
    let results: Vec<&Value> = calls.iter().map(|c| &c["result"]).collect();
    assert_eq!(
        results,
        [&json!("TRANSACTION_FAILED"), &json!("AUTHORIZED")]
    );
    assert_eq!(await_notification(&receiver).await.len(), 1);
    a.stop().await;
    b.stop().await;
}

#[actix_web::test]
async fn a_takeover_that_finds_the_request_completed_and_no_notification_stored_counts_it_lost() {
    use authlete_gateway::state::redis::RedisState;
    use authlete_gateway::state::seal::Sealer;
    use authlete_gateway::state::{Claim, ClaimToken, Completions, GuardPolicy, PollPolicy};

    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let authlete = MockServer::start().await;
    mount_ping_request(&authlete).await;
    // Authlete completed the request for a replica that then died before storing the
    // notification: it holds the claim, never renews it, never reports back.
    answer(
        &authlete,
        COMPLETE,
        ResponseTemplate::new(200)
            .set_body_json(json!({"action": "SERVER_ERROR", "resultCode": "A196203"})),
    )
    .await;
    let gw = TestGateway::start_on(authlete, |s| on_redis(s, &redis.url)).await;
    let mut settings = gw_settings_for_state(&redis.url);
    settings.replica_name = "the-replica-that-died".into();
    let dead = RedisState::new(
        &settings,
        PollPolicy {
            leeway: Duration::from_millis(500),
            default_interval: Duration::from_secs(5),
            lifetime: Duration::from_secs(3600),
        },
        GuardPolicy {
            max_pending: 5,
            reservation_ttl: Duration::from_secs(60),
            max_failures: 5,
            failure_window: Duration::from_secs(900),
        },
        Sealer::new(&[[0; 32]]),
        prometheus::Gauge::new("up", "up").unwrap(),
    )
    .unwrap();
    start_request(&gw.base).await;
    assert_eq!(
        dead.claim_completion("ticket-1", ClaimToken(1))
            .await
            .unwrap(),
        Claim::Taken { takeover: false }
    );

    eventually("the takeover's answer to be counted", || async {
        let metrics = gw.metrics().await;
        sample_or_zero(
            &metrics,
            r#"gateway_device_decisions_total{decision="late"}"#,
        ) == 1.0
    })
    .await;
    let metrics = gw.metrics().await;
    assert_eq!(
        sample(
            &metrics,
            r#"gateway_notifications_total{mode="ping",outcome="lost"}"#
        ),
        1.0
    );
    assert_eq!(gw.received(COMPLETE).await.len(), 1);
    gw.stop().await;
}

/// The `[state.redis]` of the fleet in these tests, for a backend the test drives itself.
fn gw_settings_for_state(url: &str) -> authlete_gateway::config::RedisSettings {
    let mut settings = settings();
    on_redis(&mut settings, url);
    settings.state.redis
}
