//! `POST /backchannel/authentication`: each Authlete action → the exact response, and what
//! Authlete received.

use serde_json::json;

use crate::support::*;

const BODY: &str = "scope=openid&login_hint=alice%40example.com&binding_message=W4SCT";

fn envelope(action: &str, content: &str) -> serde_json::Value {
    json!({
        "resultCode": "A000000",
        "resultMessage": "[A000000] internal detail that must not leak",
        "action": action,
        "responseContent": content
    })
}

#[actix_web::test]
async fn bad_request_action_returns_authletes_content_with_no_store_headers() {
    let gw = TestGateway::start().await;
    let content = r#"{"error":"invalid_request","error_description":"[A174301] no hint"}"#;
    gw.answer(
        "backchannel/authentication",
        envelope("BAD_REQUEST", content),
    )
    .await;
    let reply = gw.post_form("/backchannel/authentication", BODY, &[]).await;
    assert_eq!(reply.status, 400);
    reply.assert_no_store_json();
    assert_eq!(reply.body, content);
    assert!(reply.header("www-authenticate").is_none());
}

#[actix_web::test]
async fn unauthorized_action_returns_401_with_a_basic_challenge() {
    let gw = TestGateway::start().await;
    let content = r#"{"error":"invalid_client"}"#;
    gw.answer(
        "backchannel/authentication",
        envelope("UNAUTHORIZED", content),
    )
    .await;
    let reply = gw.post_form("/backchannel/authentication", BODY, &[]).await;
    assert_eq!(reply.status, 401);
    reply.assert_no_store_json();
    assert_eq!(reply.body, content);
    assert_eq!(
        reply.header("www-authenticate"),
        Some(r#"Basic realm="https://as.example.com""#)
    );
}

#[actix_web::test]
async fn internal_server_error_action_returns_500_with_authletes_content() {
    let gw = TestGateway::start().await;
    let content = r#"{"error":"server_error"}"#;
    gw.answer(
        "backchannel/authentication",
        envelope("INTERNAL_SERVER_ERROR", content),
    )
    .await;
    let reply = gw.post_form("/backchannel/authentication", BODY, &[]).await;
    assert_eq!(reply.status, 500);
    reply.assert_no_store_json();
    assert_eq!(reply.body, content);
}

#[actix_web::test]
async fn an_undocumented_action_becomes_server_error_without_authletes_text() {
    let gw = TestGateway::start().await;
    gw.answer(
        "backchannel/authentication",
        envelope("NO_SUCH_ACTION", "{}"),
    )
    .await;
    let reply = gw.post_form("/backchannel/authentication", BODY, &[]).await;
    assert_eq!(reply.status, 500);
    reply.assert_no_store_json();
    assert_eq!(reply.json(), json!({"error": "server_error"}));
    let metrics = gw.metrics().await;
    assert_eq!(
        sample(
            &metrics,
            r#"gateway_authlete_requests_total{action="unknown",api="backchannel_authentication"}"#
        ),
        1.0
    );
}

#[actix_web::test]
async fn an_identified_user_gets_the_issue_acknowledgement() {
    let gw = TestGateway::start().await;
    gw.answer(
        "backchannel/authentication",
        user_identification("alice@example.com"),
    )
    .await;
    gw.answer("backchannel/authentication/issue", issued("req-1", 5))
        .await;
    let reply = gw
        .post_form(
            "/backchannel/authentication",
            BODY,
            &[("Authorization", &basic("my+client", "s%3Acret"))],
        )
        .await;
    assert_eq!(reply.status, 200);
    reply.assert_no_store_json();
    assert_eq!(
        reply.json(),
        json!({"auth_req_id": "req-1", "interval": 5, "expires_in": 600})
    );
    assert_eq!(
        gw.received("backchannel/authentication/issue").await,
        vec![json!({"ticket": "ticket-1"})]
    );
    assert!(gw
        .received("backchannel/authentication/fail")
        .await
        .is_empty());
}

#[actix_web::test]
async fn authlete_receives_parameters_verbatim_and_decoded_basic_credentials() {
    let gw = TestGateway::start().await;
    gw.answer(
        "backchannel/authentication",
        envelope("BAD_REQUEST", r#"{"error":"invalid_request"}"#),
    )
    .await;
    gw.post_form(
        "/backchannel/authentication",
        BODY,
        &[
            ("Authorization", &basic("my+client", "s%3Acret")),
            ("X-Request-Id", "trace-42"),
        ],
    )
    .await;
    let requests = gw.received_requests("backchannel/authentication").await;
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap_or_default();
    assert_eq!(
        body,
        json!({"parameters": BODY, "clientId": "my client", "clientSecret": "s:cret"})
    );
    let header = |name: &str| request.headers.get(name).and_then(|v| v.to_str().ok());
    assert_eq!(header("authorization"), Some("Bearer service-access-token"));
    assert_eq!(header("x-request-id"), Some("trace-42"));
    assert_eq!(header("content-type"), Some("application/json"));
    assert!(header("user-agent").is_some_and(|ua| ua.starts_with("authlete-gateway/")));
    assert_ne!(header("host"), Some("as.example.com"));
}

#[actix_web::test]
async fn a_non_positive_interval_is_removed_from_the_acknowledgement() {
    let gw = TestGateway::start().await;
    gw.answer(
        "backchannel/authentication",
        user_identification("alice@example.com"),
    )
    .await;
    gw.answer("backchannel/authentication/issue", issued("req-0", 0))
        .await;
    let reply = gw.post_form("/backchannel/authentication", BODY, &[]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json(),
        json!({"auth_req_id": "req-0", "expires_in": 600})
    );
}

#[actix_web::test]
async fn an_invalid_ticket_at_issue_returns_500_with_authletes_content() {
    let gw = TestGateway::start().await;
    gw.answer(
        "backchannel/authentication",
        user_identification("alice@example.com"),
    )
    .await;
    let content = r#"{"error":"server_error","error_description":"[A181205] used"}"#;
    gw.answer(
        "backchannel/authentication/issue",
        envelope("INVALID_TICKET", content),
    )
    .await;
    let reply = gw.post_form("/backchannel/authentication", BODY, &[]).await;
    assert_eq!(reply.status, 500);
    reply.assert_no_store_json();
    assert_eq!(reply.body, content);
}

#[actix_web::test]
async fn the_attestation_challenge_is_carried_into_the_final_answer() {
    let gw = TestGateway::start().await;
    let mut identification = user_identification("nobody@example.com");
    identification["attestationChallenge"] = json!("challenge-123");
    gw.answer("backchannel/authentication", identification)
        .await;
    gw.answer(
        "backchannel/authentication/fail",
        failed("BAD_REQUEST", "unknown_user_id"),
    )
    .await;
    let reply = gw.post_form("/backchannel/authentication", BODY, &[]).await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.header("oauth-client-attestation-challenge"),
        Some("challenge-123")
    );
    assert_eq!(reply.json(), json!({"error": "unknown_user_id"}));
}

#[actix_web::test]
async fn attestation_headers_are_forwarded() {
    let gw = TestGateway::start().await;
    gw.answer(
        "backchannel/authentication",
        envelope("BAD_REQUEST", r#"{"error":"invalid_request"}"#),
    )
    .await;
    gw.post_form(
        "/backchannel/authentication",
        BODY,
        &[
            ("OAuth-Client-Attestation", "att.jwt.value"),
            ("OAuth-Client-Attestation-PoP", "pop.jwt.value"),
        ],
    )
    .await;
    let body = &gw.received("backchannel/authentication").await[0];
    assert_eq!(body["oauthClientAttestation"], "att.jwt.value");
    assert_eq!(body["oauthClientAttestationPop"], "pop.jwt.value");
}

#[actix_web::test]
async fn answers_that_carry_authlete_warnings_are_served_as_usual() {
    let gw = TestGateway::start().await;
    let mut identification = user_identification("alice@example.com");
    identification["warnings"] = json!(["The 'foo' parameter is deprecated.", "Second note."]);
    gw.answer("backchannel/authentication", identification)
        .await;
    let mut ok = issued("req-1", 5);
    ok["warnings"] = json!(["The 'foo' parameter is deprecated."]);
    gw.answer("backchannel/authentication/issue", ok).await;
    for _ in 0..2 {
        let reply = gw.post_form("/backchannel/authentication", BODY, &[]).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.assert_no_store_json();
        assert_eq!(reply.json()["auth_req_id"], "req-1");
    }
}
