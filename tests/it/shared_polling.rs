//! The edge polling control on the `redis` state backend, through real HTTP (SPEC §3.2, §12):
//! two gateways sharing one Redis act as one, and a Redis that is down or slow never holds up
//! or refuses a poll.

use std::time::{Duration, Instant};

use authlete_gateway::config::{Secret, Settings, StateBackend};
use serde_json::json;
use wiremock::MockServer;

use crate::support::*;

const POLL: &str = "grant_type=urn%3Aopenid%3Aparams%3Agrant-type%3Aciba&auth_req_id=req-1";
const KEY_HASH_SECRET: &str = "the fleet's key hash secret, 32+ bytes";
const COMMAND_TIMEOUT: Duration = Duration::from_millis(300);

fn pending() -> serde_json::Value {
    json!({
        "resultCode": "A200000",
        "resultMessage": "[A200000] detail",
        "action": "BAD_REQUEST",
        "responseContent": r#"{"error":"authorization_pending"}"#
    })
}

fn on_redis(s: &mut Settings, url: &str) {
    s.state.backend = StateBackend::Redis;
    s.state.redis.url = Some(Secret::new(url));
    s.state.redis.key_hash_secret = Some(Secret::new(KEY_HASH_SECRET));
    s.state.redis.command_timeout = COMMAND_TIMEOUT;
}

async fn poll(gw: &TestGateway, client: (&str, &str)) -> Reply {
    let authorization = basic(client.0, client.1);
    gw.post_form("/token", POLL, &[("Authorization", &authorization)])
        .await
}

#[actix_web::test]
async fn a_poll_throttled_on_one_gateway_is_throttled_on_every_gateway_sharing_redis() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let a = TestGateway::start_with(|s| on_redis(s, &redis.url)).await;
    a.answer("auth/token", pending()).await;
    let authlete = a.authlete.uri().parse().unwrap();
    let b = TestGateway::start_on(MockServer::start().await, |s| {
        on_redis(s, &redis.url);
        s.authlete.base_url = Some(authlete);
    })
    .await;

    let first = poll(&a, ("client-1", "secret-1")).await;
    assert_eq!(first.json(), json!({"error": "authorization_pending"}));
    let early = poll(&b, ("client-1", "secret-1")).await;
    assert_eq!(early.status, 400);
    assert_eq!(early.json(), json!({"error": "slow_down"}));
    assert_eq!(
        a.received("auth/token").await.len(),
        1,
        "B did not call Authlete"
    );
    assert_eq!(sample(&b.metrics().await, "gateway_slow_down_total"), 1.0);

    // Another client's credentials never match the entry: Authlete answers them.
    let other = poll(&b, ("client-2", "secret-2")).await;
    assert_eq!(other.json(), json!({"error": "authorization_pending"}));
    assert_eq!(a.received("auth/token").await.len(), 2);

    let metrics = b.metrics().await;
    assert_eq!(sample(&metrics, "gateway_state_backend_up"), 1.0);
    let checks = r#"gateway_state_operations_total{op="poll_check",result="ok"}"#;
    assert_eq!(sample(&metrics, checks), 2.0);
    a.stop().await;
    b.stop().await;
}

/// Polls twice within the interval: both reach Authlete (the control fails open), and each
/// answer comes within the command timeout plus a margin for the rest of the request.
async fn assert_fails_open(gw: &TestGateway, result: &str) {
    gw.answer("auth/token", pending()).await;
    for _ in 0..2 {
        let started = Instant::now();
        let reply = poll(gw, ("client-1", "secret-1")).await;
        assert_eq!(reply.json(), json!({"error": "authorization_pending"}));
        let took = started.elapsed();
        assert!(
            took < COMMAND_TIMEOUT + Duration::from_millis(700),
            "{took:?}"
        );
    }
    assert_eq!(gw.received("auth/token").await.len(), 2);
    let metrics = gw.metrics().await;
    let failed = format!(r#"gateway_state_operations_total{{op="poll_check",result="{result}"}}"#);
    assert!(sample(&metrics, &failed) >= 1.0, "{metrics}");
    assert_eq!(sample(&metrics, "gateway_state_backend_up"), 0.0);
    assert_eq!(sample(&metrics, "gateway_slow_down_total"), 0.0);
}

#[actix_web::test]
async fn with_redis_unreachable_polls_reach_authlete_and_count_as_errors() {
    let closed = free_port();
    let gw = TestGateway::start_with(|s| on_redis(s, &format!("redis://127.0.0.1:{closed}"))).await;
    assert_fails_open(&gw, "error").await;
    gw.stop().await;
}

#[actix_web::test]
async fn with_redis_silent_polls_reach_authlete_within_the_command_timeout() {
    // Accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("redis://{}", silent.local_addr().unwrap());
    let gw = TestGateway::start_with(|s| on_redis(s, &url)).await;
    assert_fails_open(&gw, "timeout").await;
    gw.stop().await;
}
