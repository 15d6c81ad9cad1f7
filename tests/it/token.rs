//! `POST /token`: each action, DPoP, and the edge polling control.

use std::time::Duration;

use serde_json::json;

use crate::support::*;

const POLL: &str = "grant_type=urn%3Aopenid%3Aparams%3Agrant-type%3Aciba&auth_req_id=req-1";

fn token_answer(action: &str, content: &str) -> serde_json::Value {
    json!({
        "resultCode": "A200000",
        "resultMessage": "[A200000] detail",
        "action": action,
        "responseContent": content
    })
}

fn pending() -> serde_json::Value {
    token_answer("BAD_REQUEST", r#"{"error":"authorization_pending"}"#)
}

#[actix_web::test]
async fn invalid_client_returns_401_with_a_basic_challenge() {
    let gw = TestGateway::start().await;
    let content = r#"{"error":"invalid_client"}"#;
    gw.answer("auth/token", token_answer("INVALID_CLIENT", content))
        .await;
    let reply = gw.post_form("/token", POLL, &[]).await;
    assert_eq!(reply.status, 401);
    reply.assert_no_store_json();
    assert_eq!(reply.body, content);
    assert_eq!(
        reply.header("www-authenticate"),
        Some(r#"Basic realm="https://as.example.com""#)
    );
}

#[actix_web::test]
async fn ciba_errors_return_400_with_authletes_content() {
    for error in [
        "access_denied",
        "expired_token",
        "invalid_grant",
        "unauthorized_client",
    ] {
        let gw = TestGateway::start().await;
        let content = format!(r#"{{"error":"{error}"}}"#);
        gw.answer("auth/token", token_answer("BAD_REQUEST", &content))
            .await;
        let reply = gw.post_form("/token", POLL, &[]).await;
        assert_eq!(reply.status, 400, "{error}");
        reply.assert_no_store_json();
        assert_eq!(reply.body, content);
    }
}

#[actix_web::test]
async fn internal_server_error_returns_500() {
    let gw = TestGateway::start().await;
    let content = r#"{"error":"server_error"}"#;
    gw.answer("auth/token", token_answer("INTERNAL_SERVER_ERROR", content))
        .await;
    let reply = gw.post_form("/token", POLL, &[]).await;
    assert_eq!(reply.status, 500);
    assert_eq!(reply.body, content);
}

#[actix_web::test]
async fn ok_returns_the_tokens_with_the_dpop_nonce() {
    let gw = TestGateway::start().await;
    let content = r#"{"access_token":"at","token_type":"DPoP","expires_in":3600}"#;
    let mut answer = token_answer("OK", content);
    answer["dpopNonce"] = json!("nonce-1");
    gw.answer("auth/token", answer).await;
    let reply = gw.post_form("/token", POLL, &[]).await;
    assert_eq!(reply.status, 200);
    reply.assert_no_store_json();
    assert_eq!(reply.body, content);
    assert_eq!(reply.header("dpop-nonce"), Some("nonce-1"));
}

#[actix_web::test]
async fn id_token_reissuable_returns_200() {
    let gw = TestGateway::start().await;
    let content = r#"{"access_token":"at"}"#;
    gw.answer("auth/token", token_answer("ID_TOKEN_REISSUABLE", content))
        .await;
    let reply = gw
        .post_form("/token", "grant_type=refresh_token&refresh_token=r", &[])
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, content);
}

#[actix_web::test]
async fn grants_the_gateway_does_not_serve_are_unsupported() {
    for action in ["PASSWORD", "TOKEN_EXCHANGE", "JWT_BEARER", "NATIVE_SSO"] {
        let gw = TestGateway::start().await;
        gw.answer("auth/token", token_answer(action, "{}")).await;
        let reply = gw.post_form("/token", "grant_type=password", &[]).await;
        assert_eq!(reply.status, 400, "{action}");
        reply.assert_no_store_json();
        assert_eq!(reply.json(), json!({"error": "unsupported_grant_type"}));
    }
}

#[actix_web::test]
async fn dpop_is_forwarded_with_the_method_and_without_a_url() {
    let gw = TestGateway::start().await;
    gw.answer("auth/token", pending()).await;
    gw.post_form("/token", POLL, &[("DPoP", "eyJ.proof.sig")])
        .await;
    let body = &gw.received("auth/token").await[0];
    assert_eq!(body["dpop"], "eyJ.proof.sig");
    assert_eq!(body["htm"], "POST");
    assert!(body.get("htu").is_none());
    assert_eq!(body["parameters"], POLL);
}

#[actix_web::test]
async fn two_dpop_headers_or_a_comma_are_an_invalid_proof() {
    let gw = TestGateway::start().await;
    for headers in [
        vec![("DPoP", "a.b.c"), ("DPoP", "d.e.f")],
        vec![("DPoP", "a.b.c, d.e.f")],
    ] {
        let reply = gw.post_form("/token", POLL, &headers).await;
        assert_eq!(reply.status, 400);
        reply.assert_no_store_json();
        assert_eq!(reply.json(), json!({"error": "invalid_dpop_proof"}));
    }
    assert!(gw.received("auth/token").await.is_empty());
}

#[actix_web::test]
async fn a_poll_sooner_than_the_interval_gets_slow_down_without_calling_authlete() {
    let gw = TestGateway::start().await;
    gw.answer("auth/token", pending()).await;
    let first = gw.post_form("/token", POLL, &[]).await;
    assert_eq!(first.status, 400);
    assert_eq!(first.json(), json!({"error": "authorization_pending"}));
    gw.clock.advance(Duration::from_secs(2));
    let early = gw.post_form("/token", POLL, &[]).await;
    assert_eq!(early.status, 400);
    early.assert_no_store_json();
    assert_eq!(early.json(), json!({"error": "slow_down"}));
    assert_eq!(gw.received("auth/token").await.len(), 1);
    let metrics = gw.metrics().await;
    assert_eq!(sample(&metrics, "gateway_slow_down_total"), 1.0);
    // The default interval is 5 s, with 500 ms of leeway; the early poll did not move the entry.
    gw.clock.advance(Duration::from_millis(2600));
    let on_time = gw.post_form("/token", POLL, &[]).await;
    assert_eq!(on_time.json(), json!({"error": "authorization_pending"}));
    assert_eq!(gw.received("auth/token").await.len(), 2);
}

#[actix_web::test]
async fn the_interval_seen_at_issue_governs_the_polling_control() {
    let gw = TestGateway::start().await;
    gw.answer(
        "backchannel/authentication",
        user_identification("alice@example.com"),
    )
    .await;
    gw.answer("backchannel/authentication/issue", issued("req-1", 10))
        .await;
    gw.answer("auth/token", pending()).await;
    let ack = gw
        .post_form(
            "/backchannel/authentication",
            "scope=openid&login_hint=a",
            &[],
        )
        .await;
    assert_eq!(ack.status, 200);
    gw.post_form("/token", POLL, &[]).await;
    gw.clock.advance(Duration::from_secs(7));
    let reply = gw.post_form("/token", POLL, &[]).await;
    assert_eq!(reply.json(), json!({"error": "slow_down"}));
    gw.clock.advance(Duration::from_secs(3));
    let reply = gw.post_form("/token", POLL, &[]).await;
    assert_eq!(reply.json(), json!({"error": "authorization_pending"}));
}

#[actix_web::test]
async fn a_poll_that_authlete_rejected_leaves_no_entry() {
    let gw = TestGateway::start().await;
    gw.answer(
        "auth/token",
        token_answer("BAD_REQUEST", r#"{"error":"invalid_grant"}"#),
    )
    .await;
    gw.post_form("/token", POLL, &[]).await;
    let second = gw.post_form("/token", POLL, &[]).await;
    assert_eq!(second.json(), json!({"error": "invalid_grant"}));
    assert_eq!(gw.received("auth/token").await.len(), 2);
}

#[actix_web::test]
async fn the_polling_control_can_be_turned_off() {
    let gw = TestGateway::start_with(|s| s.ciba.enforce_interval = false).await;
    gw.answer("auth/token", pending()).await;
    gw.post_form("/token", POLL, &[]).await;
    let second = gw.post_form("/token", POLL, &[]).await;
    assert_eq!(second.json(), json!({"error": "authorization_pending"}));
    assert_eq!(gw.received("auth/token").await.len(), 2);
}

#[actix_web::test]
async fn other_grants_are_not_throttled() {
    let gw = TestGateway::start().await;
    gw.answer(
        "auth/token",
        token_answer("BAD_REQUEST", r#"{"error":"authorization_pending"}"#),
    )
    .await;
    let body = "grant_type=refresh_token&refresh_token=r";
    gw.post_form("/token", body, &[]).await;
    gw.post_form("/token", body, &[]).await;
    assert_eq!(gw.received("auth/token").await.len(), 2);
}

#[actix_web::test]
async fn an_issued_interval_of_zero_counts_as_five_seconds() {
    let gw = TestGateway::start_with(|s| s.ciba.default_interval = Duration::from_secs(2)).await;
    gw.answer(
        "backchannel/authentication",
        user_identification("alice@example.com"),
    )
    .await;
    gw.answer("backchannel/authentication/issue", issued("req-1", 0))
        .await;
    gw.answer("auth/token", pending()).await;
    gw.post_form(
        "/backchannel/authentication",
        "scope=openid&login_hint=a",
        &[],
    )
    .await;
    gw.post_form("/token", POLL, &[]).await;
    gw.clock.advance(Duration::from_secs(3));
    let reply = gw.post_form("/token", POLL, &[]).await;
    assert_eq!(reply.json(), json!({"error": "slow_down"}));
}
