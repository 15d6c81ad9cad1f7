//! Decisions against a wiremock Authlete: the `/complete` answers of SPEC §5.3 that the
//! emulator does not produce on demand.

use serde_json::{json, Value};

use crate::support::*;

const COMPLETE: &str = "backchannel/authentication/complete";

/// A gateway with one issued poll request for alice; returns it and the request's decision
/// token.
async fn issued_request() -> (TestGateway, String) {
    let gw = TestGateway::start().await;
    gw.issue_req_1(user_identification("alice@example.com"))
        .await;
    let token = gw.pending().await[0]["decision_token"]
        .as_str()
        .unwrap()
        .to_owned();
    (gw, token)
}

fn server_error(result_code: &str) -> Value {
    json!({
        "resultCode": result_code,
        "resultMessage": format!("[{result_code}] The ticket is not found."),
        "action": "SERVER_ERROR"
    })
}

#[actix_web::test]
async fn a_decision_replayed_after_the_ticket_was_redeemed_is_already_decided() {
    let (gw, token) = issued_request().await;
    gw.answer(COMPLETE, server_error("A196201")).await;
    let reply = gw.decide(&token, r#"{"decision":"approve"}"#).await;
    assert_eq!(reply.status, 409, "{}", reply.body);
    reply.assert_no_store_json();
    assert_eq!(reply.json(), json!({"error": "already_decided"}));
    let calls = gw.received(COMPLETE).await;
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["ticket"], "ticket-1");
}

#[actix_web::test]
async fn another_complete_server_error_is_an_upstream_error() {
    let (gw, token) = issued_request().await;
    gw.answer(COMPLETE, server_error("A197102")).await;
    let reply = gw.decide(&token, r#"{"decision":"deny"}"#).await;
    assert_eq!(reply.status, 502, "{}", reply.body);
    assert_eq!(reply.json(), json!({"error": "upstream_error"}));
}
