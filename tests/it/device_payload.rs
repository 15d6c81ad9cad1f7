//! What the device webhook and the console get of Authlete's `requestContext` (a JSON value
//! inside a string) and `authorizationDetails` (the RFC 9396 array inside `{"elements": ...}`):
//! the value and the array (SPEC §5.2), never Authlete's wire shapes.

use serde_json::{json, Value};
use wiremock::MockServer;

use crate::support::*;
use crate::webhook::webhook_channel;

fn context() -> Value {
    json!({"ip": "203.0.113.7", "device": {"os": "ios", "trusted": true}})
}

fn details() -> Value {
    json!([
        {"type": "payment_initiation", "actions": ["initiate"],
         "instructedAmount": {"currency": "EUR", "amount": "123.50"}},
        {"type": "account_information", "locations": ["https://bank.example.com"]}
    ])
}

/// Authlete's `USER_IDENTIFICATION` answer carrying `requestContext` and `authorizationDetails`
/// as given.
fn identification(request_context: Value, authorization_details: Value) -> Value {
    let mut answer = user_identification("alice@example.com");
    answer["requestContext"] = request_context;
    answer["authorizationDetails"] = authorization_details;
    answer
}

/// Starts a gateway whose Authlete identifies and issues with `identification`, and issues one
/// request through it.
async fn issue(
    identification: Value,
    adjust: impl FnOnce(&mut authlete_gateway::config::Settings),
) -> TestGateway {
    let gw = TestGateway::start_with(adjust).await;
    gw.issue_req_1(identification).await;
    gw
}

async fn webhook_body(device: &MockServer) -> Value {
    let requests = received_at_least(device, 1).await;
    serde_json::from_slice(&requests[0].body).unwrap()
}

#[actix_web::test]
async fn the_device_gets_the_request_context_value_and_the_authorization_details_array() {
    let device = receiver(204).await;
    let answer = identification(
        Value::String(context().to_string()),
        json!({"elements": details()}),
    );
    let _gw = issue(answer, |s| webhook_channel(s, &device)).await;
    let body = webhook_body(&device).await;
    assert_eq!(body["type"], "authentication_request");
    assert_eq!(body["request_context"], context());
    assert_eq!(body["authorization_details"], details());
}

#[actix_web::test]
async fn an_unparseable_request_context_is_null_and_an_array_of_details_is_kept() {
    let device = receiver(204).await;
    let answer = identification(json!("{\"ip\": \"203.0.113.7\""), details());
    let _gw = issue(answer, |s| webhook_channel(s, &device)).await;
    let body = webhook_body(&device).await;
    assert!(body["request_context"].is_null(), "{body}");
    assert!(body.as_object().unwrap().contains_key("request_context"));
    assert_eq!(body["authorization_details"], details());
}

#[actix_web::test]
async fn the_console_lists_the_same_request_context_and_authorization_details() {
    let answer = identification(
        Value::String(context().to_string()),
        json!({"elements": details()}),
    );
    let gw = issue(answer, |_| {}).await;
    let pending = gw.pending().await;
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0]["request_context"], context());
    assert_eq!(pending[0]["authorization_details"], details());
}

#[actix_web::test]
async fn requests_without_context_or_details_carry_null_for_both() {
    let gw = issue(user_identification("alice@example.com"), |_| {}).await;
    let entry = &gw.pending().await[0];
    let members = entry.as_object().unwrap();
    assert!(members["request_context"].is_null(), "{entry}");
    assert!(members["authorization_details"].is_null(), "{entry}");
}
