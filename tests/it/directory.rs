//! `users.source = "http"` (SPEC §4.1), with a wiremock directory: the request it receives,
//! a found user, and every failure mapped to its `/fail` reason.

use std::time::Duration;

use authlete_gateway::config::{HttpDirectorySettings, Secret, UserSource};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

pub(crate) const BODY: &str = "scope=openid&login_hint=carol%40example.com";

/// The user directory's timeout in these tests.
pub(crate) const DIRECTORY_TIMEOUT: Duration = Duration::from_millis(300);

/// A gateway using `directory` as its user directory (timeout 300 ms); Authlete identifies,
/// fails and issues.
async fn gateway(directory: &MockServer) -> TestGateway {
    gateway_at(&format!("{}/lookup", directory.uri())).await
}

/// A gateway using the directory at `url` (timeout 300 ms); Authlete identifies carol, fails
/// with `BAD_REQUEST` and issues `req-1`.
pub(crate) async fn gateway_at(url: &str) -> TestGateway {
    let url = url.parse().unwrap();
    let gw = TestGateway::start_with(move |s| {
        s.users.source = UserSource::Http;
        s.users.http = Some(HttpDirectorySettings {
            url,
            bearer_token: Some(Secret::new("dir-token")),
            timeout: DIRECTORY_TIMEOUT,
            allow_insecure_http: true,
        });
    })
    .await;
    let mut identification = user_identification("carol@example.com");
    identification["acrs"] = json!(["urn:acr:mfa"]);
    identification["bindingMessage"] = json!("W4SCT");
    gw.answer("backchannel/authentication", identification)
        .await;
    gw.answer(
        "backchannel/authentication/fail",
        failed("BAD_REQUEST", "x"),
    )
    .await;
    gw.answer("backchannel/authentication/issue", issued("req-1", 5))
        .await;
    gw
}

async fn directory_answers(directory: &MockServer, template: ResponseTemplate) {
    directory.reset().await;
    Mock::given(method("POST"))
        .and(path("/lookup"))
        .respond_with(template)
        .mount(directory)
        .await;
}

pub(crate) async fn fail_reasons(gw: &TestGateway) -> Vec<Value> {
    gw.received("backchannel/authentication/fail")
        .await
        .into_iter()
        .map(|b| b["reason"].clone())
        .collect()
}

#[actix_web::test]
async fn a_found_user_is_issued_and_the_directory_gets_the_request_context() {
    let directory = MockServer::start().await;
    let gw = gateway(&directory).await;
    let user = json!({"subject": "carol", "user_code_required": false, "user_code_valid": false, "claims": {"name": "Carol"}});
    directory_answers(&directory, ResponseTemplate::new(200).set_body_json(user)).await;
    let reply = gw
        .post_form(BACKCHANNEL, BODY, &[("X-Request-Id", "req-abc")])
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["auth_req_id"], "req-1");
    let received = directory.received_requests().await.unwrap_or_default();
    assert_eq!(received.len(), 1);
    let request = &received[0];
    let header = |name: &str| request.headers.get(name).and_then(|v| v.to_str().ok());
    assert_eq!(header("authorization"), Some("Bearer dir-token"));
    assert_eq!(header("x-request-id"), Some("req-abc"));
    assert!(header("content-type").is_some_and(|ct| ct.starts_with("application/json")));
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(
        body,
        json!({
            "hint_type": "login_hint",
            "hint": "carol@example.com",
            "client_id": "26862190133482",
            "scopes": ["openid"],
            "acr_values": ["urn:acr:mfa"],
            "binding_message": "W4SCT",
            "user_code": null
        })
    );
    assert!(fail_reasons(&gw).await.is_empty());
}

pub(crate) const BACKCHANNEL: &str = "/backchannel/authentication";

#[actix_web::test]
async fn every_directory_failure_maps_to_its_fail_reason() {
    let directory = MockServer::start().await;
    let gw = gateway(&directory).await;
    let error =
        |status: u16, e: &str| ResponseTemplate::new(status).set_body_json(json!({"error": e}));
    let cases = [
        (ResponseTemplate::new(404), "UNKNOWN_USER_ID"),
        (error(404, "unknown_user_id"), "UNKNOWN_USER_ID"),
        (
            error(400, "expired_login_hint_token"),
            "EXPIRED_LOGIN_HINT_TOKEN",
        ),
        (error(400, "missing_user_code"), "MISSING_USER_CODE"),
        (error(400, "invalid_user_code"), "INVALID_USER_CODE"),
        (error(403, "access_denied"), "ACCESS_DENIED"),
        (error(200, "unauthorized_client"), "UNAUTHORIZED_CLIENT"),
        (error(400, "something_else"), "SERVER_ERROR"),
        (ResponseTemplate::new(500), "SERVER_ERROR"),
        (
            ResponseTemplate::new(302).insert_header("Location", "/elsewhere"),
            "SERVER_ERROR",
        ),
        (
            ResponseTemplate::new(200).set_body_raw("{not json", "application/json"),
            "SERVER_ERROR",
        ),
        (
            ResponseTemplate::new(200).set_body_json(json!({"claims": {}})),
            "SERVER_ERROR",
        ),
    ];
    let expected: Vec<Value> = cases.iter().map(|(_, reason)| json!(reason)).collect();
    for (template, reason) in cases {
        directory_answers(&directory, template).await;
        let reply = gw.post_form(BACKCHANNEL, BODY, &[]).await;
        assert_eq!(reply.status, 400, "{reason}: {}", reply.body);
    }
    assert_eq!(fail_reasons(&gw).await, expected);
    assert!(gw
        .received("backchannel/authentication/issue")
        .await
        .is_empty());
}

#[actix_web::test]
async fn userinfo_reads_the_claims_from_the_http_directory_by_subject() {
    let directory = MockServer::start().await;
    let gw = gateway(&directory).await;
    let user =
        json!({"subject": "carol", "claims": {"email": "carol@example.com", "phone_number": "1"}});
    directory_answers(&directory, ResponseTemplate::new(200).set_body_json(user)).await;
    gw.answer(
        "auth/userinfo",
        json!({"action": "OK", "subject": "carol", "claims": ["email"]}),
    )
    .await;
    gw.answer(
        "auth/userinfo/issue",
        json!({"action": "JSON", "responseContent": "{\"sub\":\"carol\"}"}),
    )
    .await;
    let reply = gw
        .send("GET", "/userinfo", &[("Authorization", "Bearer tok")], None)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json(), json!({"sub": "carol"}));
    let received = directory.received_requests().await.unwrap_or_default();
    let lookup: Value = serde_json::from_slice(&received[0].body).unwrap();
    assert_eq!(lookup["hint_type"], "subject");
    assert_eq!(lookup["hint"], "carol");
    let issue = &gw.received("auth/userinfo/issue").await[0];
    assert_eq!(issue["claims"], json!("{\"email\":\"carol@example.com\"}"));
}

/// A gateway on the HTTP `directory` that locks a hint out after two wrong codes, for requests
/// that carry the code `0000`.
async fn lockout_gateway(directory: &MockServer) -> TestGateway {
    let url = format!("{}/lookup", directory.uri()).parse().unwrap();
    let gw = TestGateway::start_with(move |s| {
        s.users.source = UserSource::Http;
        s.users.http = Some(HttpDirectorySettings {
            url,
            bearer_token: None,
            timeout: Duration::from_millis(300),
            allow_insecure_http: true,
        });
        s.ciba.user_code_max_failures = 2;
    })
    .await;
    let mut identification = user_identification("carol@example.com");
    identification["userCode"] = json!("0000");
    gw.answer("backchannel/authentication", identification)
        .await;
    gw.answer(
        "backchannel/authentication/fail",
        failed("BAD_REQUEST", "x"),
    )
    .await;
    gw
}

#[actix_web::test]
async fn wrong_codes_judged_by_the_directory_still_lock_the_hint_out() {
    let directory = MockServer::start().await;
    let gw = lockout_gateway(&directory).await;
    directory_answers(
        &directory,
        ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_user_code"})),
    )
    .await;
    for _ in 0..3 {
        gw.post_form("/backchannel/authentication", BODY, &[]).await;
    }
    assert_eq!(
        fail_reasons(&gw).await,
        vec![
            json!("INVALID_USER_CODE"),
            json!("INVALID_USER_CODE"),
            json!("ACCESS_DENIED")
        ]
    );
    let asked = directory.received_requests().await.unwrap_or_default();
    assert_eq!(
        asked.len(),
        2,
        "a locked-out hint does not reach the directory"
    );

    // Guesses sent at once, while the directory takes its time, do not get past the limit.
    let gw = lockout_gateway(&directory).await;
    directory.reset().await;
    directory_answers(
        &directory,
        ResponseTemplate::new(400)
            .set_body_json(json!({"error": "invalid_user_code"}))
            .set_delay(Duration::from_millis(100)),
    )
    .await;
    futures_util::future::join_all(
        (0..8).map(|_| gw.post_form("/backchannel/authentication", BODY, &[])),
    )
    .await;
    let reasons = fail_reasons(&gw).await;
    let judged = reasons
        .iter()
        .filter(|r| **r == json!("INVALID_USER_CODE"))
        .count();
    assert_eq!((judged, reasons.len()), (2, 8), "{reasons:?}");
    let asked = directory.received_requests().await.unwrap_or_default();
    assert_eq!(asked.len(), 2, "only the limit reaches the directory");
}
