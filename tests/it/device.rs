//! The device bridge end to end (gateway + embedded emulator): decisions by token and by the
//! console, and what the client then gets at the token endpoint.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::*;

const POLL: (&str, &str) = ("poll-client", "poll-secret");

async fn one_pending(gw: &TestGateway) -> Value {
    let pending = gw.pending().await;
    assert_eq!(pending.len(), 1, "{pending:?}");
    pending[0].clone()
}

#[actix_web::test]
async fn poll_client_gets_tokens_after_approval() {
    let gw = TestGateway::start_embedded(|_| {}).await;
    let ack = gw.start_ciba(POLL, "&binding_message=W4SCT").await;
    let auth_req_id = ack["auth_req_id"].as_str().unwrap();
    let entry = one_pending(&gw).await;
    assert_eq!(entry["subject"], "alice");
    assert_eq!(entry["client_id"], "poll-client");
    assert_eq!(entry["binding_message"], "W4SCT");
    assert!(!entry.to_string().contains(auth_req_id));
    let pending = gw.poll(POLL, auth_req_id).await;
    assert_eq!(pending.json()["error"], "authorization_pending");
    let token = entry["decision_token"].as_str().unwrap();
    let decided = gw
        .decide(token, r#"{"decision":"approve","acr":"urn:example:pwd"}"#)
        .await;
    assert_eq!(decided.status, 204, "{}", decided.body);
    assert!(gw.pending().await.is_empty());
    gw.clock.advance(Duration::from_secs(5));
    let tokens = gw.poll(POLL, auth_req_id).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    tokens.assert_no_store_json();
    let body = tokens.json();
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["access_token"].is_string());
    assert!(body["id_token"].is_string());
    let metrics = gw.metrics().await;
    assert_eq!(
        sample(
            &metrics,
            r#"gateway_device_decisions_total{decision="approve"}"#
        ),
        1.0
    );
    assert_eq!(sample(&metrics, "gateway_ciba_pending_requests"), 0.0);
}

#[actix_web::test]
async fn poll_client_gets_access_denied_after_denial() {
    let gw = TestGateway::start_embedded(|_| {}).await;
    let ack = gw.start_ciba(POLL, "").await;
    let entry = one_pending(&gw).await;
    let decided = gw
        .decide(
            entry["decision_token"].as_str().unwrap(),
            r#"{"decision":"deny"}"#,
        )
        .await;
    assert_eq!(decided.status, 204);
    let reply = gw.poll(POLL, ack["auth_req_id"].as_str().unwrap()).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["error"], "access_denied");
}

#[actix_web::test]
async fn a_second_decision_is_a_conflict() {
    let gw = TestGateway::start_embedded(|_| {}).await;
    gw.start_ciba(POLL, "").await;
    let token = one_pending(&gw).await["decision_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        gw.decide(&token, r#"{"decision":"approve"}"#).await.status,
        204
    );
    let again = gw.decide(&token, r#"{"decision":"deny"}"#).await;
    assert_eq!(again.status, 409);
    assert_eq!(again.json(), json!({"error": "already_decided"}));
}

#[actix_web::test]
async fn forged_tampered_other_key_and_expired_tokens_are_refused() {
    let gw = TestGateway::start_embedded(|_| {}).await;
    gw.start_ciba(POLL, "").await;
    let token = one_pending(&gw).await["decision_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut tampered = token.clone().into_bytes();
    let i = tampered.len() - 5;
    tampered[i] = if tampered[i] == b'x' { b'y' } else { b'x' };
    let tampered = String::from_utf8(tampered).unwrap();
    let other_key = authlete_gateway::ciba::decision::DecisionKeys::random()
        .seal(&authlete_gateway::ciba::decision::DecisionClaims {
            ticket: "t".into(),
            subject: "alice".into(),
            client_id: None,
            client_name: None,
            delivery_mode: Some(authlete_gateway::ciba::DeliveryMode::Poll),
            claim_names: vec![],
            acrs: vec![],
            issued_at: 0,
            expires_at: u64::MAX / 2,
            traceparent: None,
        })
        .unwrap();
    for bad in [
        "v1.forged",
        "not-a-token",
        tampered.as_str(),
        other_key.as_str(),
    ] {
        let reply = gw.decide(bad, r#"{"decision":"approve"}"#).await;
        assert_eq!(reply.status, 401, "{bad}");
        assert_eq!(
            reply.header("www-authenticate"),
            Some(r#"Bearer error="invalid_token""#)
        );
        assert_eq!(reply.json(), json!({"error": "invalid_token"}));
    }
    gw.clock.advance(Duration::from_secs(600 + 31));
    let expired = gw.decide(&token, r#"{"decision":"approve"}"#).await;
    assert_eq!(expired.status, 401);
}

#[actix_web::test]
async fn decisions_naming_unrequested_or_protocol_claims_are_refused() {
    let gw = TestGateway::start_embedded(|_| {}).await;
    gw.start_ciba(POLL, "").await;
    let token = one_pending(&gw).await["decision_token"]
        .as_str()
        .unwrap()
        .to_owned();
    for body in [
        r#"{"decision":"approve","claims":{"phone_number":"+1 555"}}"#,
        r#"{"decision":"approve","claims":{"sub":"mallory"}}"#,
        r#"{"decision":"approve","claims":{"urn:openid:params:jwt:claim:auth_req_id":"x"}}"#,
        r#"{"decision":"maybe"}"#,
        r#"{"decision":"approve","auth_time":1}"#,
        r#"{"decision":"approve","auth_time":18446744073709551615}"#,
        r#"{"decision":"approve","unknown":1}"#,
        r#"not json"#,
    ] {
        let reply = gw.decide(&token, body).await;
        assert_eq!(reply.status, 400, "{body}");
        assert_eq!(reply.json()["error"], "invalid_request");
    }
    let ok = gw
        .decide(
            &token,
            r#"{"decision":"approve","claims":{"email":"a@b.example"}}"#,
        )
        .await;
    assert_eq!(ok.status, 204, "{}", ok.body);
}

#[actix_web::test]
async fn the_console_lists_requests_and_applies_decisions() {
    let gw = TestGateway::start_embedded(|_| {}).await;
    let ack = gw.start_ciba(POLL, "").await;
    let entry = one_pending(&gw).await;
    let url = format!("{}/console/decisions", gw.admin);
    let body = json!({"request_id": entry["request_id"], "decision": "approve"}).to_string();
    let reply = gw.post_json(&url, &body, &[]).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    gw.clock.advance(Duration::from_secs(5));
    let tokens = gw.poll(POLL, ack["auth_req_id"].as_str().unwrap()).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let unknown = json!({"request_id": "nope", "decision": "approve"}).to_string();
    assert_eq!(gw.post_json(&url, &unknown, &[]).await.status, 404);
}

#[actix_web::test]
async fn the_console_token_guards_its_data_when_set() {
    let gw = TestGateway::start_embedded(|s| {
        s.admin.console_token = Some(authlete_gateway::config::Secret::new(
            "console-secret-of-at-least-32-chars",
        ));
    })
    .await;
    let feed = format!("{}/console/requests", gw.admin);
    let refused = gw.get(&feed).await;
    assert_eq!(refused.status, 401);
    let reply = client()
        .get(&feed)
        .insert_header((
            "Authorization",
            "Bearer console-secret-of-at-least-32-chars",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let page = gw.get(&format!("{}/console", gw.admin)).await;
    assert_eq!(
        page.status, 200,
        "the page holds no data and needs no token"
    );
    assert_eq!(
        page.header("content-security-policy"),
        Some("default-src 'self'; object-src 'none'; frame-ancestors 'none'")
    );
    let sink = gw
        .post_json(
            &format!("{}/console/notifications", gw.admin),
            r#"{"auth_req_id":"abc","access_token":"0123456789abcdef"}"#,
            &[("Authorization", "Bearer client-notification-token-value")],
        )
        .await;
    assert_eq!(sink.status, 204, "the sink takes any Authorization");
    let mut request = client().get(format!("{}/console/notifications", gw.admin));
    request = request.insert_header((
        "Authorization",
        "Bearer console-secret-of-at-least-32-chars",
    ));
    let mut listed = request.send().await.unwrap();
    let listed: Value = serde_json::from_slice(&listed.body().await.unwrap()).unwrap();
    assert_eq!(listed[0]["authorization"], "Bearer client-n…");
    assert_eq!(listed[0]["body"]["access_token"], "01234567…");
}

#[actix_web::test]
async fn the_console_refuses_a_repeated_authorization_header() {
    let token = "console-secret-of-at-least-32-chars";
    let gw = TestGateway::start_embedded(|s| {
        s.admin.console_token = Some(authlete_gateway::config::Secret::new(token));
    })
    .await;
    let bearer = format!("Bearer {token}");
    let reply = client()
        .get(format!("{}/console/requests", gw.admin))
        .append_header(("Authorization", bearer.as_str()))
        .append_header(("Authorization", bearer.as_str()))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 401);
}

#[actix_web::test]
async fn a_poll_request_left_undecided_expires_and_leaves_the_list() {
    let gw = TestGateway::start_embedded(|_| {}).await;
    let ack = gw.start_ciba(POLL, "").await;
    assert_eq!(gw.pending().await.len(), 1);
    gw.clock.advance(Duration::from_secs(601));
    let reply = gw.poll(POLL, ack["auth_req_id"].as_str().unwrap()).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["error"], "expired_token");
    // The expiry timer runs on the background thread.
    eventually("the expired request to leave the list", || async {
        gw.pending().await.is_empty()
    })
    .await;
}

#[actix_web::test]
async fn a_decision_frees_the_users_place_under_the_pending_cap() {
    let gw = TestGateway::start_embedded(|s| s.ciba.max_pending_per_user = 1).await;
    gw.start_ciba(POLL, "").await;
    let refused = gw
        .post_form(
            "/backchannel/authentication",
            "scope=openid&login_hint=alice%40example.com",
            &[("Authorization", &basic(POLL.0, POLL.1))],
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let token = one_pending(&gw).await["decision_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        gw.decide(&token, r#"{"decision":"deny"}"#).await.status,
        204
    );
    gw.start_ciba(POLL, "").await;
}
