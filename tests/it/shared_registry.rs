//! The request registry on the `redis` state backend, through real HTTP (SPEC §5.4, §12): two
//! gateways sharing one Redis and one set of decision keys show one console — a request issued
//! on one is listed, and decided, on the other, and then gone from both.

use authlete_gateway::config::{Secret, Settings, StateBackend};
use serde_json::json;
use wiremock::MockServer;

use crate::support::*;

const COMPLETE: &str = "backchannel/authentication/complete";

fn on_redis(s: &mut Settings, url: &str) {
    s.state.backend = StateBackend::Redis;
    s.state.redis.url = Some(Secret::new(url));
    s.state.redis.key_hash_secret = Some(Secret::new("the fleet's key hash secret, 32+ bytes"));
    s.state.redis.command_timeout = std::time::Duration::from_millis(300);
}

#[actix_web::test]
async fn a_request_issued_on_one_gateway_is_listed_and_decided_on_the_other() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let a = TestGateway::start_with(|s| on_redis(s, &redis.url)).await;
    let authlete = a.authlete.uri().parse().unwrap();
    let b = TestGateway::start_on(MockServer::start().await, |s| {
        on_redis(s, &redis.url);
        s.authlete.base_url = Some(authlete);
    })
    .await;
    a.issue_req_1(user_identification("alice@example.com"))
        .await;

    let listed = b.pending().await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["subject"], "alice");
    assert_eq!(a.pending().await, listed);
    let pending = "gateway_ciba_pending_requests";
    assert_eq!(sample(&b.metrics().await, pending), 1.0);

    a.answer(
        COMPLETE,
        json!({"resultCode": "A194001", "resultMessage": "ok", "action": "NO_ACTION"}),
    )
    .await;
    let url = format!("{}/console/decisions", b.admin);
    let body = json!({"request_id": listed[0]["request_id"], "decision": "approve"}).to_string();
    let reply = b.post_json(&url, &body, &[]).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    let calls = a.received(COMPLETE).await;
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["ticket"], "ticket-1");

    assert!(a.pending().await.is_empty());
    assert!(b.pending().await.is_empty());
    assert_eq!(sample(&a.metrics().await, pending), 0.0);
    let again = b.post_json(&url, &body, &[]).await;
    assert_eq!(again.status, 404, "{}", again.body);
    a.stop().await;
    b.stop().await;
}

#[actix_web::test]
async fn with_redis_unreachable_the_console_cannot_list() {
    let closed = format!("redis://127.0.0.1:{}", free_port());
    let gw = TestGateway::start_with(|s| on_redis(s, &closed)).await;
    let reply = gw.get(&format!("{}/console/requests", gw.admin)).await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.json(), json!({"error": "temporarily_unavailable"}));
    assert!(reply.header("retry-after").is_some());
    let body = json!({"request_id": "any", "decision": "approve"}).to_string();
    let url = format!("{}/console/decisions", gw.admin);
    assert_eq!(gw.post_json(&url, &body, &[]).await.status, 503);
    gw.stop().await;
}
