//! Decisions against a wiremock Authlete: the `/complete` answers of SPEC §5.3 that the
//! emulator does not produce on demand, and a `/complete` that outlives the device's request.

use std::time::Duration;

use serde_json::{json, Value};
use wiremock::{MockServer, ResponseTemplate};

use crate::support::*;

const COMPLETE: &str = "backchannel/authentication/complete";

/// A gateway with one issued poll request for alice; returns it and the request's decision
/// token.
async fn issued_request() -> (TestGateway, String) {
    issued_request_with(|_| {}, user_identification("alice@example.com")).await
}

/// The same, with the settings changed by `adjust` and Authlete identifying the user with
/// `identification`.
async fn issued_request_with(
    adjust: impl FnOnce(&mut authlete_gateway::config::Settings),
    identification: Value,
) -> (TestGateway, String) {
    let gw = TestGateway::start_with(adjust).await;
    gw.issue_req_1(identification).await;
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

/// A gateway whose device sends an approval for a ping request and hangs up while Authlete,
/// slow to answer, holds the decision's `/complete` call; the notification goes to
/// `receiver`. Long polling is on, so the listener drops a request whose client closed its
/// connection.
async fn device_hung_up_during_complete(receiver: &MockServer) -> TestGateway {
    let mut identification = user_identification("alice@example.com");
    identification["deliveryMode"] = json!("PING");
    let adjust = |s: &mut authlete_gateway::config::Settings| {
        s.ciba.long_polling = true;
        s.notifications.allowed_networks = vec!["127.0.0.0/8".parse().unwrap()];
        s.notifications.allow_insecure_http = true;
    };
    let (gw, token) = issued_request_with(adjust, identification).await;
    answer(
        &gw.authlete,
        COMPLETE,
        ResponseTemplate::new(200)
            .set_body_json(ping_notification(receiver, "notification-token"))
            .set_delay(Duration::from_millis(500)),
    )
    .await;
    let request = client()
        .post(format!("{}/device/decisions", gw.base))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .insert_header(("Content-Type", "application/json"))
        .send_body(r#"{"decision":"approve"}"#);
    let device = actix_web::rt::spawn(request);
    eventually("the decision's /complete at Authlete", || async {
        !gw.received(COMPLETE).await.is_empty()
    })
    .await;
    device.abort();
    assert!(device.await.is_err(), "the device's request was cut short");
    gw
}

#[actix_web::test]
async fn a_decision_whose_device_hangs_up_is_still_reported_and_notified() {
    let receiver = receiver(204).await;
    let gw = device_hung_up_during_complete(&receiver).await;
    let delivered = received_at_least(&receiver, 1).await;
    assert_eq!(
        delivered[0].headers.get("authorization").unwrap(),
        "Bearer notification-token"
    );
    let metrics = gw.metrics().await;
    let approvals = r#"gateway_device_decisions_total{decision="approve"}"#;
    assert_eq!(sample(&metrics, approvals), 1.0);
    assert_eq!(gw.received(COMPLETE).await.len(), 1);
    gw.stop().await;
}

#[actix_web::test]
async fn shutdown_lets_a_complete_call_finish_after_its_device_hung_up() {
    let receiver = receiver(204).await;
    let gw = device_hung_up_during_complete(&receiver).await;
    assert!(receiver.received_requests().await.unwrap().is_empty());
    // Shutdown waits for the call, then delivers the notification it queued.
    gw.stop().await;
    let delivered = receiver.received_requests().await.unwrap();
    assert_eq!(
        delivered.len(),
        1,
        "the notification was delivered before the end"
    );
    assert_eq!(gw.received(COMPLETE).await.len(), 1);
}
