//! Crashes of a real replica (SPEC §12 "Outbox"): a gateway process killed with SIGKILL while
//! it holds a delivery loses nothing. Its lease runs out and another replica of the fleet (same
//! Redis, key hash secret and decision keys) takes the message over, continuing its attempt
//! count, and counts the takeover.

use std::time::Duration;

use serde_json::{json, Value};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::shared_outbox::fleet;
use crate::support::*;
use crate::webhook::{webhook_channel, SECRET_A, SECRET_B};

const LEASE: Duration = Duration::from_millis(1000);
const NOTIFICATION_TOKEN: &str = "tok-crash-123";

/// The killed replica's config: the embedded Authlete, a ping client notified at `receiver`,
/// the fleet's Redis, a one-second lease, and attempts that may hang for a minute.
fn config(redis: &str, receiver: &str, device: &str) -> String {
    embedded_config_head("")
        + &format!(
            r#"
[device]
{device}
decision_keys = ["AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="]

[notifications]
allowed_networks = ["127.0.0.0/8"]
allow_insecure_http = true
timeout_ms = 60000

[state]
backend = "redis"

[state.redis]
url = "{redis}"
key_hash_secret = "the fleet's key hash secret, 32+ bytes"
command_timeout_ms = 300
lease_ms = {lease}

[[emulator.clients]]
client_id = "ping-client"
client_secret = "ping-secret"
delivery_mode = "ping"
notification_endpoint = "{receiver}/cb"

[log]
level = "info"
"#,
            lease = LEASE.as_millis()
        )
}

/// The fleet's other replica, started in this process.
async fn survivor(
    redis: &RedisServer,
    adjust: impl FnOnce(&mut authlete_gateway::config::Settings),
) -> TestGateway {
    TestGateway::start_on(MockServer::start().await, |s| {
        fleet(s, &redis.url);
        s.state.redis.lease = LEASE;
        adjust(s);
    })
    .await
}

/// Starts the replica to be killed.
fn replica(dir: &tempfile::TempDir, config: String) -> (GatewayProcess, String, String) {
    let path = dir.path().join("config.toml");
    std::fs::write(&path, config).unwrap();
    GatewayProcess::spawn(&path)
}

/// Starts a ping request on the replica and approves it through its console.
async fn approve_ping(public: &str, admin: &str) {
    let http = client();
    let reply = http
        .post(format!("{public}/backchannel/authentication"))
        .insert_header(("Authorization", basic("ping-client", "ping-secret")))
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .send_body(format!(
            "scope=openid&login_hint=alice%40example.com&client_notification_token={NOTIFICATION_TOKEN}"
        ))
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let mut listed = http
        .get(format!("{admin}/console/requests"))
        .send()
        .await
        .unwrap();
    let entries: Value = serde_json::from_slice(&listed.body().await.unwrap()).unwrap();
    let decided = http
        .post(format!("{admin}/console/decisions"))
        .insert_header(("Content-Type", "application/json"))
        .send_body(
            json!({"request_id": entries[0]["request_id"], "decision": "approve"}).to_string(),
        )
        .await
        .unwrap();
    assert_eq!(decided.status(), 204);
}

/// Answers `template` to the next `times` requests, ahead of the mocks mounted after it.
async fn first(server: &MockServer, times: u64, priority: u8, template: ResponseTemplate) {
    Mock::given(method("POST"))
        .respond_with(template)
        .up_to_n_times(times)
        .with_priority(priority)
        .mount(server)
        .await;
}

/// Answers 204 once the `first` mocks are used up.
async fn then_accept(server: &MockServer) {
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(204))
        .with_priority(10)
        .mount(server)
        .await;
}

fn hang() -> ResponseTemplate {
    ResponseTemplate::new(204).set_delay(Duration::from_secs(60))
}

#[actix_web::test]
async fn a_notification_held_by_a_killed_replica_is_delivered_by_another_after_its_lease() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let receiver = MockServer::start().await;
    first(&receiver, 1, 1, hang()).await;
    then_accept(&receiver).await;
    let dir = tempfile::tempdir().unwrap();
    let (mut a, public, admin) = replica(&dir, config(&redis.url, &receiver.uri(), ""));
    approve_ping(&public, &admin).await;
    // A's attempt hangs: A holds the lease when it dies.
    received_at_least(&receiver, 1).await;
    a.kill_9();

    let b = survivor(&redis, |_| {}).await;
    let requests = received_at_least(&receiver, 2).await;
    let bearer = format!("Bearer {NOTIFICATION_TOKEN}");
    assert_eq!(
        requests[1].headers["authorization"].to_str().unwrap(),
        bearer
    );
    assert_eq!(requests[1].body, requests[0].body);
    let delivered = r#"gateway_notifications_total{mode="ping",outcome="delivered"}"#;
    eventually("B to count the delivery", || async {
        sample(&b.metrics().await, delivered) == 1.0
    })
    .await;
    let metrics = b.metrics().await;
    let reclaimed = r#"gateway_outbox_reclaimed_total{kind="notification"}"#;
    assert_eq!(sample(&metrics, reclaimed), 1.0);
    let depth = r#"gateway_outbox_depth{kind="notification"}"#;
    eventually("the fleet's queue to be empty", || async {
        sample(&b.metrics().await, depth) == 0.0
    })
    .await;
    b.stop().await;
}

#[actix_web::test]
async fn the_attempt_count_survives_the_takeover_of_a_killed_replica() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let receiver = MockServer::start().await;
    first(&receiver, 2, 1, ResponseTemplate::new(503)).await;
    first(&receiver, 1, 2, hang()).await;
    then_accept(&receiver).await;
    let dir = tempfile::tempdir().unwrap();
    let (mut a, public, admin) = replica(&dir, config(&redis.url, &receiver.uri(), ""));
    approve_ping(&public, &admin).await;
    received_at_least(&receiver, 3).await;
    // Two failed attempts are recorded in Redis; the third hangs when A dies.
    let attempts = eventually("two attempts recorded", || async {
        let mut c = redis
            .client()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let names: Vec<String> = redis::cmd("KEYS")
            .arg("{agw}:outbox:notification:msg:*")
            .query_async(&mut c)
            .await
            .unwrap();
        let name = names.first()?;
        let n: Option<u32> = redis::cmd("HGET")
            .arg(name)
            .arg("n")
            .query_async(&mut c)
            .await
            .ok()?;
        n.filter(|n| *n == 2)
    })
    .await;
    assert_eq!(attempts, 2);
    a.kill_9();

    let b = survivor(&redis, |_| {}).await;
    received_at_least(&receiver, 4).await;
    let delivered = r#"gateway_notifications_total{mode="ping",outcome="delivered"}"#;
    eventually("B to count the delivery", || async {
        sample(&b.metrics().await, delivered) == 1.0
    })
    .await;
    let metrics = b.metrics().await;
    // B made one attempt, the one that delivered: A's two failed ones are A's to count.
    let attempted = r#"gateway_notification_attempts_total{mode="ping",result="2xx"}"#;
    assert_eq!(sample(&metrics, attempted), 1.0);
    let failed = r#"gateway_notification_attempts_total{mode="ping",result="5xx"}"#;
    assert_eq!(sample(&metrics, failed), 0.0);
    let reclaimed = r#"gateway_outbox_reclaimed_total{kind="notification"}"#;
    assert_eq!(sample(&metrics, reclaimed), 1.0);
    b.stop().await;
}

#[actix_web::test]
async fn a_webhook_message_held_by_a_killed_replica_is_delivered_by_another() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let device = MockServer::start().await;
    first(&device, 1, 1, hang()).await;
    then_accept(&device).await;
    let channel = format!(
        r#"channel = "webhook"
webhook = {{ url = "{}/ciba", secrets = ["{SECRET_A}", "{SECRET_B}"], allow_insecure_http = true, timeout_ms = 60000 }}"#,
        device.uri()
    );
    let dir = tempfile::tempdir().unwrap();
    let (mut a, public, _) = replica(&dir, config(&redis.url, "http://127.0.0.1:9", &channel));
    let reply = client()
        .post(format!("{public}/backchannel/authentication"))
        .insert_header(("Authorization", basic("ping-client", "ping-secret")))
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .send_body("scope=openid&login_hint=alice%40example.com&client_notification_token=t")
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    received_at_least(&device, 1).await;
    a.kill_9();

    let b = survivor(&redis, |s| webhook_channel(s, &device)).await;
    let requests = received_at_least(&device, 2).await;
    let id = |i: usize| {
        requests[i].headers["webhook-id"]
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(id(1), id(0), "the same message, by its webhook-id");
    let message: Value = serde_json::from_slice(&requests[1].body).unwrap();
    assert_eq!(message["type"], "authentication_request");
    let reclaimed = r#"gateway_outbox_reclaimed_total{kind="webhook"}"#;
    eventually("B to count the takeover", || async {
        sample(&b.metrics().await, reclaimed) == 1.0
    })
    .await;
    b.stop().await;
}
