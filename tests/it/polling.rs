//! The edge polling control (SPEC §3.2) against the embedded emulator's real client
//! authentication: only the caller that proved it owns an auth_req_id is throttled, and never
//! once the request is decided.

use serde_json::{json, Value};
use wiremock::MockServer;

use crate::support::*;

const POLL: (&str, &str) = ("poll-client", "poll-secret");
const GRANT: &str = "grant_type=urn%3Aopenid%3Aparams%3Agrant-type%3Aciba";

fn emulator_client(toml_text: &str) -> authlete_gateway::config::EmulatorClient {
    toml::from_str(toml_text).unwrap()
}

/// A gateway whose emulator also has a second poll client and a ping client notifying
/// `receiver`.
async fn gateway(receiver: &MockServer) -> TestGateway {
    let endpoint = format!("{}/cb", receiver.uri());
    TestGateway::start_embedded(move |s| {
        s.emulator.clients.push(emulator_client(
            "client_id = \"other-client\"\nclient_secret = \"other-secret\"\ndelivery_mode = \"poll\"",
        ));
        s.emulator.clients.push(emulator_client(&format!(
            "client_id = \"ping-client\"\nclient_secret = \"ping-secret\"\n\
             delivery_mode = \"ping\"\nnotification_endpoint = \"{endpoint}\""
        )));
    })
    .await
}

async fn poll_with(
    gw: &TestGateway,
    auth_req_id: &str,
    extra: &str,
    headers: &[(&str, &str)],
) -> Reply {
    let body = format!("{GRANT}&auth_req_id={auth_req_id}{extra}");
    gw.post_form("/token", &body, headers).await
}

/// Starts a request as `client`, polls once (pending), then applies `decision`; returns the
/// auth_req_id.
async fn decided_after_a_pending_poll(
    gw: &TestGateway,
    client: (&str, &str),
    extra: &str,
    decision: &str,
) -> String {
    let ack = gw.start_ciba(client, extra).await;
    let id = ack["auth_req_id"].as_str().unwrap().to_owned();
    assert_eq!(error(&gw.poll(client, &id).await), "authorization_pending");
    let token = gw.pending().await[0]["decision_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = format!(r#"{{"decision":"{decision}"}}"#);
    assert_eq!(gw.decide(&token, &body).await.status, 204);
    id
}

fn error(reply: &Reply) -> Value {
    reply.json()["error"].clone()
}

#[actix_web::test]
async fn within_the_interval_every_other_caller_gets_its_rfc_answer_not_slow_down() {
    let gw = gateway(&receiver(204).await).await;
    let ack = gw.start_ciba(POLL, "").await;
    let id = ack["auth_req_id"].as_str().unwrap();
    assert_eq!(error(&gw.poll(POLL, id).await), "authorization_pending");

    let wrong_secret = gw.poll(("poll-client", "wrong"), id).await;
    let unknown = gw.poll(("nobody", "secret"), id).await;
    let anonymous = poll_with(&gw, id, "", &[]).await;
    let secret_in_body =
        poll_with(&gw, id, "&client_id=poll-client&client_secret=wrong", &[]).await;
    for (name, reply) in [
        ("wrong secret", &wrong_secret),
        ("unknown client", &unknown),
        ("no authentication", &anonymous),
        ("wrong secret in the body", &secret_in_body),
    ] {
        assert_eq!(reply.status, 401, "{name}: {}", reply.body);
        assert_eq!(error(reply), "invalid_client", "{name}");
        assert_eq!(
            reply.header("www-authenticate"),
            Some(r#"Basic realm="https://as.example.com""#),
            "{name}"
        );
    }
    let other = gw.poll(("other-client", "other-secret"), id).await;
    assert_eq!(other.status, 400, "{}", other.body);
    assert_eq!(error(&other), "invalid_grant");

    let owner = gw.poll(POLL, id).await;
    assert_eq!(owner.status, 400);
    assert_eq!(owner.json(), json!({"error": "slow_down"}));
    assert_eq!(sample(&gw.metrics().await, "gateway_slow_down_total"), 1.0);
}

#[actix_web::test]
async fn a_poll_client_polling_right_after_the_approval_gets_its_tokens() {
    let gw = gateway(&receiver(204).await).await;
    let id = &decided_after_a_pending_poll(&gw, POLL, "", "approve").await;
    let tokens = gw.poll(POLL, id).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert!(tokens.json()["access_token"].is_string());
    assert_eq!(sample(&gw.metrics().await, "gateway_slow_down_total"), 0.0);
}

#[actix_web::test]
async fn a_ping_clients_token_request_right_after_the_notification_gets_its_tokens() {
    let receiver = receiver(204).await;
    let gw = gateway(&receiver).await;
    let ping = ("ping-client", "ping-secret");
    let id = &decided_after_a_pending_poll(
        &gw,
        ping,
        "&client_notification_token=ping-notification-token",
        "approve",
    )
    .await;
    received_at_least(&receiver, 1).await;
    let tokens = gw.poll(ping, id).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert!(tokens.json()["id_token"].is_string());
}

#[actix_web::test]
async fn a_denied_request_is_never_answered_slow_down() {
    let gw = gateway(&receiver(204).await).await;
    let id = &decided_after_a_pending_poll(&gw, POLL, "", "deny").await;
    let denied = gw.poll(POLL, id).await;
    assert_eq!(error(&denied), "access_denied", "{}", denied.body);
    // Authlete has forgotten the id by now; the gateway must not claim it is pending.
    let again = gw.poll(POLL, id).await;
    assert_ne!(error(&again), "slow_down", "{}", again.body);
}
