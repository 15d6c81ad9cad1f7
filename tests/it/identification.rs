//! User identification (SPEC §4): every `/fail` reason reachable from the steps, the user-code
//! lockout and the pending cap.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::*;

const BODY: &str = "scope=openid&login_hint=x";

/// Runs one backchannel request whose identification answer is `identification`; Authlete's
/// `/fail` answers `fail_action`, `/issue` answers OK.
async fn run(gw: &TestGateway) -> Reply {
    gw.post_form("/backchannel/authentication", BODY, &[]).await
}

async fn gateway(identification: Value, fail_action: &str, fail_error: &str) -> TestGateway {
    gateway_with(identification, fail_action, fail_error, |_| {}).await
}

async fn gateway_with(
    identification: Value,
    fail_action: &str,
    fail_error: &str,
    adjust: impl FnOnce(&mut authlete_gateway::config::Settings),
) -> TestGateway {
    let gw = TestGateway::start_with(adjust).await;
    gw.answer("backchannel/authentication", identification)
        .await;
    gw.answer(
        "backchannel/authentication/fail",
        failed(fail_action, fail_error),
    )
    .await;
    gw.answer("backchannel/authentication/issue", issued("req-9", 5))
        .await;
    gw
}

async fn fail_reasons(gw: &TestGateway) -> Vec<Value> {
    gw.received("backchannel/authentication/fail")
        .await
        .into_iter()
        .map(|b| b["reason"].clone())
        .collect()
}

/// Authlete's `/fail` got `reason` for `ticket-1`, `/issue` was never called, and the failure
/// was counted once.
async fn assert_failed_without_issue(gw: &TestGateway, reason: &str) {
    assert_eq!(
        gw.received("backchannel/authentication/fail").await,
        vec![json!({"ticket": "ticket-1", "reason": reason})]
    );
    assert!(gw
        .received("backchannel/authentication/issue")
        .await
        .is_empty());
    let series = format!(r#"gateway_backchannel_failures_total{{reason="{reason}"}}"#);
    assert_eq!(sample(&gw.metrics().await, &series), 1.0);
}

#[actix_web::test]
async fn an_unknown_login_hint_fails_with_unknown_user_id() {
    let gw = gateway(
        user_identification("nobody@example.com"),
        "BAD_REQUEST",
        "unknown_user_id",
    )
    .await;
    let reply = run(&gw).await;
    assert_eq!(reply.status, 400);
    reply.assert_no_store_json();
    assert_eq!(reply.json(), json!({"error": "unknown_user_id"}));
    assert_failed_without_issue(&gw, "UNKNOWN_USER_ID").await;
}

#[actix_web::test]
async fn a_login_hint_token_is_unknown_to_the_static_directory() {
    let mut identification = user_identification("eyJhbGciOiJub25lIn0.e30.");
    identification["hintType"] = json!("LOGIN_HINT_TOKEN");
    let gw = gateway(identification, "BAD_REQUEST", "unknown_user_id").await;
    assert_eq!(run(&gw).await.status, 400);
    assert_eq!(fail_reasons(&gw).await, vec![json!("UNKNOWN_USER_ID")]);
}

#[actix_web::test]
async fn an_id_token_hint_identifies_the_user_by_authletes_sub() {
    let mut identification = user_identification("eyJ.hint.sig");
    identification["hintType"] = json!("ID_TOKEN_HINT");
    identification["sub"] = json!("alice");
    let gw = gateway(identification, "BAD_REQUEST", "unknown_user_id").await;
    let reply = run(&gw).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["auth_req_id"], "req-9");
    assert!(fail_reasons(&gw).await.is_empty());
}

#[actix_web::test]
async fn an_id_token_hint_for_a_subject_outside_the_directory_fails() {
    let mut identification = user_identification("eyJ.hint.sig");
    identification["hintType"] = json!("ID_TOKEN_HINT");
    identification["sub"] = json!("mallory");
    let gw = gateway(identification, "BAD_REQUEST", "unknown_user_id").await;
    assert_eq!(run(&gw).await.status, 400);
    assert_eq!(fail_reasons(&gw).await, vec![json!("UNKNOWN_USER_ID")]);
}

#[actix_web::test]
async fn a_user_who_requires_a_code_without_one_fails_with_missing_user_code() {
    let gw = gateway(
        user_identification("bob@example.com"),
        "BAD_REQUEST",
        "missing_user_code",
    )
    .await;
    let reply = run(&gw).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json(), json!({"error": "missing_user_code"}));
    assert_eq!(fail_reasons(&gw).await, vec![json!("MISSING_USER_CODE")]);
}

#[actix_web::test]
async fn authletes_user_code_requirement_applies_to_any_user() {
    let mut identification = user_identification("alice@example.com");
    identification["userCodeRequired"] = json!(true);
    let gw = gateway(identification, "BAD_REQUEST", "missing_user_code").await;
    assert_eq!(run(&gw).await.status, 400);
    assert_eq!(fail_reasons(&gw).await, vec![json!("MISSING_USER_CODE")]);
}

#[actix_web::test]
async fn the_right_user_code_is_accepted() {
    let mut identification = user_identification("bob@example.com");
    identification["userCode"] = json!("4321");
    let gw = gateway(identification, "BAD_REQUEST", "invalid_user_code").await;
    assert_eq!(run(&gw).await.status, 200);
}

#[actix_web::test]
async fn a_hashed_user_code_is_compared_by_its_digest() {
    let mut identification = user_identification("bob@example.com");
    identification["userCode"] = json!("4321");
    let gw = gateway_with(identification, "BAD_REQUEST", "invalid_user_code", |s| {
        let bob = &mut s.users.static_users[1];
        bob.user_code = None;
        // sha256("4321")
        bob.user_code_sha256 = Some(authlete_gateway::config::Secret::new(
            "fe2592b42a727e977f055947385b709cc82b16b9a87f88c6abf3900d65d0cdc3",
        ));
    })
    .await;
    assert_eq!(run(&gw).await.status, 200);
}

/// A gateway where every request is bob's with the wrong user code `0000`; three wrong codes
/// within 60 s lock him out.
async fn wrong_code_gateway() -> TestGateway {
    let mut identification = user_identification("bob@example.com");
    identification["userCode"] = json!("0000");
    gateway_with(identification, "BAD_REQUEST", "invalid_user_code", |s| {
        s.ciba.user_code_max_failures = 3;
        s.ciba.user_code_failure_window = Duration::from_secs(60);
    })
    .await
}

#[actix_web::test]
async fn repeated_wrong_user_codes_lock_the_subject_until_the_window_passes() {
    let gw = wrong_code_gateway().await;
    for _ in 0..3 {
        assert_eq!(run(&gw).await.status, 400);
    }
    run(&gw).await;
    let reasons = fail_reasons(&gw).await;
    assert_eq!(
        reasons,
        vec![
            json!("INVALID_USER_CODE"),
            json!("INVALID_USER_CODE"),
            json!("INVALID_USER_CODE"),
            json!("ACCESS_DENIED"),
        ],
        "the wrong code that reaches the limit is still INVALID_USER_CODE"
    );
    let metrics = gw.metrics().await;
    assert_eq!(
        sample(
            &metrics,
            r#"gateway_backchannel_failures_total{reason="USER_CODE_LOCKED"}"#
        ),
        1.0
    );
    // A guess leaves the window when it is exactly the window old, not before.
    gw.clock.advance(Duration::from_secs(59));
    run(&gw).await;
    assert_eq!(
        fail_reasons(&gw).await.last(),
        Some(&json!("ACCESS_DENIED"))
    );
    gw.clock.advance(Duration::from_secs(1));
    run(&gw).await;
    assert_eq!(
        fail_reasons(&gw).await.last(),
        Some(&json!("INVALID_USER_CODE"))
    );
}

#[actix_web::test]
async fn right_user_codes_never_count_toward_the_lockout() {
    let mut identification = user_identification("bob@example.com");
    identification["userCode"] = json!("4321");
    let gw = gateway_with(identification, "BAD_REQUEST", "invalid_user_code", |s| {
        s.ciba.user_code_max_failures = 2;
        s.ciba.max_pending_per_user = 10;
    })
    .await;
    for n in 0..5 {
        assert_eq!(run(&gw).await.status, 200, "request {n}");
    }
    assert!(fail_reasons(&gw).await.is_empty());
}

#[actix_web::test]
async fn parallel_wrong_user_codes_beyond_the_limit_are_refused() {
    let gw = wrong_code_gateway().await;
    let replies = futures_util::future::join_all((0..10).map(|_| run(&gw))).await;
    assert!(replies.iter().all(|r| r.status == 400));
    let reasons = fail_reasons(&gw).await;
    let judged = reasons
        .iter()
        .filter(|r| **r == json!("INVALID_USER_CODE"))
        .count();
    assert_eq!(judged, 3, "only the limit is judged: {reasons:?}");
    assert_eq!(reasons.len(), 10);
    let metrics = gw.metrics().await;
    assert_eq!(
        sample(
            &metrics,
            r#"gateway_backchannel_failures_total{reason="USER_CODE_LOCKED"}"#
        ),
        7.0
    );
    // The right code is refused too while the subject is locked.
    assert!(gw
        .received("backchannel/authentication/issue")
        .await
        .is_empty());
}

#[actix_web::test]
async fn a_binding_message_outside_the_pattern_fails() {
    let mut identification = user_identification("alice@example.com");
    identification["bindingMessage"] = json!("<script>alert(1)</script>");
    let gw = gateway(identification, "BAD_REQUEST", "invalid_binding_message").await;
    let reply = run(&gw).await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        fail_reasons(&gw).await,
        vec![json!("INVALID_BINDING_MESSAGE")]
    );
}

#[actix_web::test]
async fn a_binding_message_inside_the_pattern_passes() {
    let mut identification = user_identification("alice@example.com");
    identification["bindingMessage"] = json!("Café 42 #7");
    let gw = gateway(identification, "BAD_REQUEST", "invalid_binding_message").await;
    assert_eq!(run(&gw).await.status, 200);
}

#[actix_web::test]
async fn the_pending_cap_denies_further_requests_until_earlier_ones_expire() {
    let gw = gateway_with(
        user_identification("alice@example.com"),
        "FORBIDDEN",
        "access_denied",
        |s| s.ciba.max_pending_per_user = 2,
    )
    .await;
    assert_eq!(run(&gw).await.status, 200);
    assert_eq!(run(&gw).await.status, 200);
    let reply = run(&gw).await;
    assert_eq!(reply.status, 403);
    reply.assert_no_store_json();
    assert_eq!(reply.json(), json!({"error": "access_denied"}));
    assert_eq!(fail_reasons(&gw).await, vec![json!("ACCESS_DENIED")]);
    gw.clock.advance(Duration::from_secs(601));
    assert_eq!(run(&gw).await.status, 200, "expired requests stop counting");
}

/// A request that is not issued — `/issue` unreachable, or answering other than OK — gives its
/// place back at once: the user's next request is issued under a cap of one.
#[actix_web::test]
async fn a_request_that_is_not_issued_gives_its_place_back() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};

    let gw = TestGateway::start_with(|s| s.ciba.max_pending_per_user = 1).await;
    gw.answer(
        "backchannel/authentication",
        user_identification("alice@example.com"),
    )
    .await;
    let issue = api_path("backchannel/authentication/issue");
    for broken in [
        ResponseTemplate::new(502),
        ResponseTemplate::new(200).set_body_json(
            json!({"action": "INTERNAL_SERVER_ERROR", "resultCode": "A001101",
                   "responseContent": "{\"error\":\"server_error\"}"}),
        ),
    ] {
        Mock::given(method("POST"))
            .and(path(issue.clone()))
            .respond_with(broken)
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&gw.authlete)
            .await;
    }
    gw.answer("backchannel/authentication/issue", issued("req-9", 5))
        .await;
    gw.answer(
        "backchannel/authentication/fail",
        failed("FORBIDDEN", "access_denied"),
    )
    .await;
    assert_eq!(run(&gw).await.status, 503, "/issue unreachable");
    assert_eq!(run(&gw).await.status, 500, "/issue not OK");
    assert_eq!(run(&gw).await.status, 200, "the place was given back");
    assert_eq!(run(&gw).await.status, 403, "the cap of one holds");
    assert_eq!(fail_reasons(&gw).await, vec![json!("ACCESS_DENIED")]);
}

#[actix_web::test]
async fn a_failing_fail_call_is_an_upstream_error() {
    let gw = TestGateway::start().await;
    gw.answer(
        "backchannel/authentication",
        user_identification("nobody@example.com"),
    )
    .await;
    answer(
        &gw.authlete,
        "backchannel/authentication/fail",
        wiremock::ResponseTemplate::new(502),
    )
    .await;
    let reply = run(&gw).await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.json(), json!({"error": "temporarily_unavailable"}));
}

#[actix_web::test]
async fn a_grant_of_another_user_is_refused_with_access_denied() {
    let mut identification = user_identification("alice@example.com");
    identification["gmAction"] = json!("MERGE");
    identification["grantId"] = json!("grant-of-bob");
    identification["grantSubject"] = json!("bob");
    let gw = gateway(identification, "FORBIDDEN", "access_denied").await;
    let reply = run(&gw).await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    reply.assert_no_store_json();
    assert_eq!(reply.json(), json!({"error": "access_denied"}));
    assert_failed_without_issue(&gw, "ACCESS_DENIED").await;
}

#[actix_web::test]
async fn a_grant_of_the_hinted_user_is_issued() {
    let mut identification = user_identification("alice@example.com");
    identification["gmAction"] = json!("MERGE");
    identification["grantId"] = json!("grant-of-alice");
    identification["grantSubject"] = json!("alice");
    let gw = gateway(identification, "FORBIDDEN", "access_denied").await;
    let reply = run(&gw).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["auth_req_id"], "req-9");
    assert!(fail_reasons(&gw).await.is_empty());
}
