//! The push-bombing guard and the user-code lockout on the `redis` state backend, through real
//! HTTP (SPEC §4, §12): two gateways sharing one Redis hold one cap and one lockout, and while
//! Redis is down nothing is issued that could not be tracked.

use std::sync::atomic::{AtomicU64, Ordering};

use authlete_gateway::config::{Secret, Settings, StateBackend};
use futures_util::future::join_all;
use serde_json::{json, Value};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::*;

const BODY: &str = "scope=openid&login_hint=x";
const KEY_HASH_SECRET: &str = "the fleet's key hash secret, 32+ bytes";

fn on_redis(s: &mut Settings, redis: &impl SharedRedis) {
    s.state.backend = StateBackend::Redis;
    redis.point(s);
    s.state.redis.key_hash_secret = Some(Secret::new(KEY_HASH_SECRET));
    s.state.redis.command_timeout = std::time::Duration::from_millis(300);
}

/// Authlete's `/issue`, with another auth_req_id each time.
struct Issues(AtomicU64);

impl Respond for Issues {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.0.fetch_add(1, Ordering::SeqCst);
        ResponseTemplate::new(200).set_body_json(issued(&format!("req-{n}"), 5))
    }
}

/// Two gateways on one Redis and one Authlete, which answers `identification` and, on `/fail`,
/// `fail_error`.
/// Two gateways on `redis` where every request is bob's with the wrong user code `0000`, and
/// the lockout takes `max_failures` wrong codes.
async fn wrong_code_fleet(redis: &RedisServer, max_failures: usize) -> (TestGateway, TestGateway) {
    let mut identification = user_identification("bob@example.com");
    identification["userCode"] = json!("0000");
    fleet(redis, identification, "invalid_user_code", |s| {
        s.ciba.user_code_max_failures = max_failures;
    })
    .await
}

async fn fleet(
    redis: &impl SharedRedis,
    identification: Value,
    fail_error: &str,
    adjust: impl Fn(&mut Settings),
) -> (TestGateway, TestGateway) {
    let a = TestGateway::start_with(|s| {
        on_redis(s, redis);
        adjust(s);
    })
    .await;
    let authlete = a.authlete.uri().parse().unwrap();
    let b = TestGateway::start_on(MockServer::start().await, |s| {
        on_redis(s, redis);
        adjust(s);
        s.authlete.base_url = Some(authlete);
    })
    .await;
    a.answer("backchannel/authentication", identification).await;
    a.answer(
        "backchannel/authentication/fail",
        failed("FORBIDDEN", fail_error),
    )
    .await;
    Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path(api_path(
            "backchannel/authentication/issue",
        )))
        .respond_with(Issues(AtomicU64::new(0)))
        .mount(&a.authlete)
        .await;
    (a, b)
}

async fn fail_reasons(gw: &TestGateway) -> Vec<Value> {
    gw.received("backchannel/authentication/fail")
        .await
        .into_iter()
        .map(|b| b["reason"].clone())
        .collect()
}

#[actix_web::test]
async fn requests_for_one_user_spread_over_the_fleet_issue_exactly_the_cap() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    exactly_the_cap_over_a_fleet_on(&redis).await;
}

#[actix_web::test]
async fn requests_for_one_user_spread_over_a_fleet_on_a_redis_cluster_issue_exactly_the_cap() {
    let Some(cluster) = RedisCluster::start().await else {
        return;
    };
    exactly_the_cap_over_a_fleet_on(&cluster).await;
}

/// Ten requests for alice, alternating between two gateways on `redis`, with a cap of three.
async fn exactly_the_cap_over_a_fleet_on(redis: &impl SharedRedis) {
    let identification = user_identification("alice@example.com");
    let (a, b) = fleet(redis, identification, "access_denied", |s| {
        s.ciba.max_pending_per_user = 3;
    })
    .await;

    let replies = join_all((0..10).map(|i| {
        let gw = if i % 2 == 0 { &a } else { &b };
        gw.post_form("/backchannel/authentication", BODY, &[])
    }))
    .await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 403).count(),
        7,
        "{statuses:?}"
    );
    assert_eq!(
        a.received("backchannel/authentication/issue").await.len(),
        3
    );
    assert_eq!(fail_reasons(&a).await, vec![json!("ACCESS_DENIED"); 7]);
    a.stop().await;
    b.stop().await;
}

#[actix_web::test]
async fn a_lockout_reached_on_one_gateway_holds_on_the_other() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let (a, b) = wrong_code_fleet(&redis, 2).await;

    for _ in 0..2 {
        a.post_form("/backchannel/authentication", BODY, &[]).await;
    }
    b.post_form("/backchannel/authentication", BODY, &[]).await;
    assert_eq!(
        fail_reasons(&a).await,
        vec![
            json!("INVALID_USER_CODE"),
            json!("INVALID_USER_CODE"),
            json!("ACCESS_DENIED")
        ]
    );
    let locked = r#"gateway_backchannel_failures_total{reason="USER_CODE_LOCKED"}"#;
    assert_eq!(sample(&b.metrics().await, locked), 1.0);
    assert!(a
        .received("backchannel/authentication/issue")
        .await
        .is_empty());
    a.stop().await;
    b.stop().await;
}

#[actix_web::test]
async fn parallel_wrong_codes_for_one_user_over_the_fleet_are_judged_only_up_to_the_limit() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let (a, b) = wrong_code_fleet(&redis, 3).await;

    let replies = join_all((0..12).map(|i| {
        let gw = if i % 2 == 0 { &a } else { &b };
        gw.post_form("/backchannel/authentication", BODY, &[])
    }))
    .await;
    assert!(
        replies.iter().all(|r| r.status == 403),
        "every code is refused"
    );
    let reasons = fail_reasons(&a).await;
    let judged = reasons
        .iter()
        .filter(|r| **r == json!("INVALID_USER_CODE"))
        .count();
    let locked = reasons
        .iter()
        .filter(|r| **r == json!("ACCESS_DENIED"))
        .count();
    assert_eq!((judged, locked), (3, 9), "{reasons:?}");
    let locked = r#"gateway_backchannel_failures_total{reason="USER_CODE_LOCKED"}"#;
    let counted = sample(&a.metrics().await, locked) + sample(&b.metrics().await, locked);
    assert_eq!(counted, 9.0);
    assert!(a
        .received("backchannel/authentication/issue")
        .await
        .is_empty());
    a.stop().await;
    b.stop().await;
}

/// How many `op` calls failed, by error or timeout (a first connection to a closed port may
/// end either way).
fn failed_ops(metrics: &str, op: &str) -> f64 {
    ["error", "timeout"]
        .iter()
        .map(|result| {
            let series =
                format!(r#"gateway_state_operations_total{{op="{op}",result="{result}"}}"#);
            sample(metrics, &series)
        })
        .sum()
}

/// One backchannel request while Redis is unreachable: 503 with `Retry-After`, and Authlete
/// hears neither `/issue` nor `/fail` (the ticket expires).
async fn assert_untracked(gw: &TestGateway) {
    let reply = gw.post_form("/backchannel/authentication", BODY, &[]).await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    reply.assert_no_store_json();
    assert_eq!(reply.json(), json!({"error": "temporarily_unavailable"}));
    assert!(reply.header("retry-after").is_some());
    assert!(gw
        .received("backchannel/authentication/issue")
        .await
        .is_empty());
    assert!(gw
        .received("backchannel/authentication/fail")
        .await
        .is_empty());
}

#[actix_web::test]
async fn with_redis_unreachable_no_request_is_issued() {
    let closed = format!("redis://127.0.0.1:{}", free_port());
    let gw = TestGateway::start_with(|s| on_redis(s, &closed)).await;
    gw.answer(
        "backchannel/authentication",
        user_identification("alice@example.com"),
    )
    .await;
    gw.answer("backchannel/authentication/issue", issued("req-1", 5))
        .await;
    assert_untracked(&gw).await;
    let metrics = gw.metrics().await;
    assert_eq!(failed_ops(&metrics, "pending_reserve"), 1.0, "{metrics}");
    gw.stop().await;
}

#[actix_web::test]
async fn with_redis_unreachable_the_lockout_check_fails_closed() {
    let closed = format!("redis://127.0.0.1:{}", free_port());
    let gw = TestGateway::start_with(|s| on_redis(s, &closed)).await;
    let mut identification = user_identification("bob@example.com");
    identification["userCode"] = json!("4321");
    gw.answer("backchannel/authentication", identification)
        .await;
    gw.answer("backchannel/authentication/issue", issued("req-1", 5))
        .await;
    assert_untracked(&gw).await;
    let metrics = gw.metrics().await;
    assert_eq!(failed_ops(&metrics, "lockout_begin"), 1.0, "{metrics}");
    assert_eq!(failed_ops(&metrics, "pending_reserve"), 0.0, "{metrics}");
    gw.stop().await;
}
