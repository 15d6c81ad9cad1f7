//! Authlete failing: down, slow, 5xx, 429, 401, garbage → the answers of SPEC §3, and nothing
//! of Authlete's text reaches the client.

use std::time::Duration;

use serde_json::json;
use wiremock::ResponseTemplate;

use crate::support::*;

const BODY: &str = "scope=openid&login_hint=alice";

async fn with_answer(template: ResponseTemplate) -> (TestGateway, Reply) {
    let gw = TestGateway::start().await;
    answer(&gw.authlete, "backchannel/authentication", template).await;
    let reply = gw.post_form("/backchannel/authentication", BODY, &[]).await;
    (gw, reply)
}

fn assert_unavailable(reply: &Reply, retry_after: &str) {
    assert_eq!(reply.status, 503, "{}", reply.body);
    reply.assert_no_store_json();
    assert_eq!(reply.json(), json!({"error": "temporarily_unavailable"}));
    assert_eq!(reply.header("retry-after"), Some(retry_after));
}

fn assert_server_error(reply: &Reply) {
    assert_eq!(reply.status, 500, "{}", reply.body);
    reply.assert_no_store_json();
    assert_eq!(reply.json(), json!({"error": "server_error"}));
}

#[actix_web::test]
async fn authlete_unreachable_gives_503_with_the_default_retry_after() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap_or_else(|e| panic!("{e}"));
    let gw = TestGateway::start_with(move |s| {
        s.authlete.base_url = Some(format!("http://{closed}").parse().unwrap());
    })
    .await;
    let reply = gw.post_form("/backchannel/authentication", BODY, &[]).await;
    assert_unavailable(&reply, "2");
    let metrics = gw.metrics().await;
    assert_eq!(
        sample(
            &metrics,
            r#"gateway_authlete_requests_total{action="transport_error",api="backchannel_authentication"}"#
        ),
        1.0
    );
}

#[actix_web::test]
async fn authlete_too_slow_gives_503() {
    let gw =
        TestGateway::start_with(|s| s.authlete.request_timeout = Duration::from_millis(200)).await;
    answer(
        &gw.authlete,
        "backchannel/authentication",
        ResponseTemplate::new(200)
            .set_delay(Duration::from_secs(3))
            .set_body_json(user_identification("alice")),
    )
    .await;
    let reply = gw.post_form("/backchannel/authentication", BODY, &[]).await;
    assert_unavailable(&reply, "2");
}

#[actix_web::test]
async fn authlete_500_gives_503() {
    let (_, reply) = with_answer(
        ResponseTemplate::new(500)
            .set_body_json(json!({"resultCode": "A001101", "resultMessage": "[A001101] secret"})),
    )
    .await;
    assert_unavailable(&reply, "2");
    assert!(!reply.body.contains("A001101"));
}

#[actix_web::test]
async fn authlete_429_passes_its_retry_after_capped_at_60() {
    let (_, reply) =
        with_answer(ResponseTemplate::new(429).insert_header("Retry-After", "7")).await;
    assert_unavailable(&reply, "7");
    let (_, reply) =
        with_answer(ResponseTemplate::new(429).insert_header("Retry-After", "3600")).await;
    assert_unavailable(&reply, "60");
    let (_, reply) = with_answer(ResponseTemplate::new(429)).await;
    assert_unavailable(&reply, "2");
}

#[actix_web::test]
async fn a_configured_retry_after_is_the_default() {
    let gw = TestGateway::start_with(|s| s.authlete.retry_after = Duration::from_secs(9)).await;
    answer(
        &gw.authlete,
        "backchannel/authentication",
        ResponseTemplate::new(503),
    )
    .await;
    let reply = gw.post_form("/backchannel/authentication", BODY, &[]).await;
    assert_unavailable(&reply, "9");
}

#[actix_web::test]
async fn authlete_401_means_our_credentials_are_wrong_and_gives_500() {
    let (gw, reply) = with_answer(ResponseTemplate::new(401).set_body_json(json!({
        "resultCode": "A001202",
        "resultMessage": "[A001202] /backchannel/authentication, Authorization header is missing."
    })))
    .await;
    assert_server_error(&reply);
    assert!(!reply.body.contains("A001202"));
    let metrics = gw.metrics().await;
    assert_eq!(
        sample(
            &metrics,
            r#"gateway_authlete_requests_total{action="http_error",api="backchannel_authentication"}"#
        ),
        1.0
    );
}

#[actix_web::test]
async fn garbage_from_authlete_gives_500() {
    let (_, reply) = with_answer(ResponseTemplate::new(200).set_body_string("<html>oops")).await;
    assert_server_error(&reply);
}

#[actix_web::test]
async fn the_token_call_has_its_own_timeout() {
    let gw = TestGateway::start_with(|s| {
        s.authlete.request_timeout = Duration::from_millis(100);
        s.authlete.token_timeout = Duration::from_millis(3000);
    })
    .await;
    answer(
        &gw.authlete,
        "auth/token",
        ResponseTemplate::new(200)
            .set_delay(Duration::from_millis(400))
            .set_body_json(json!({"action": "OK", "responseContent": "{\"access_token\":\"a\"}"})),
    )
    .await;
    let reply = gw
        .post_form("/token", "grant_type=client_credentials", &[])
        .await;
    assert_eq!(reply.status, 200);
}

#[actix_web::test]
async fn a_retry_after_date_from_authlete_becomes_seconds() {
    let when = std::time::SystemTime::now() + Duration::from_secs(30);
    let (_, reply) = with_answer(
        ResponseTemplate::new(503).insert_header("Retry-After", httpdate::fmt_http_date(when)),
    )
    .await;
    assert_eq!(reply.status, 503);
    let secs: u64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert!((25..=30).contains(&secs), "{secs}");
}

#[actix_web::test]
async fn rate_limit_reset_comes_before_retry_after_and_a_zero_falls_through() {
    let (_, reply) = with_answer(
        ResponseTemplate::new(429)
            .insert_header("RateLimit-Reset", "12")
            .insert_header("Retry-After", "7"),
    )
    .await;
    assert_unavailable(&reply, "12");
    let (_, reply) = with_answer(
        ResponseTemplate::new(429)
            .insert_header("RateLimit-Reset", "0")
            .insert_header("Retry-After", "9"),
    )
    .await;
    assert_unavailable(&reply, "9");
    let (_, reply) = with_answer(
        ResponseTemplate::new(429)
            .insert_header("X-RateLimit-Reset", "4")
            .insert_header("Retry-After", "9"),
    )
    .await;
    assert_unavailable(&reply, "4");
    let (_, reply) =
        with_answer(ResponseTemplate::new(429).insert_header("Retry-After", "0")).await;
    assert_unavailable(&reply, "2");
}
