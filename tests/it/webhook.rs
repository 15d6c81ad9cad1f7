//! The device webhook channel end to end: signed `authentication_request` messages, decisions
//! by their token, and `cancelled` when the gateway ends a request itself.

use std::time::Duration;

use serde_json::Value;
use wiremock::{MockServer, Request};

use authlete_gateway::config::Settings;

use crate::support::*;

const POLL: (&str, &str) = ("poll-client", "poll-secret");
pub(crate) const SECRET_A: &str = "whsec_c2VjcmV0LWtleS1vbmUtZm9yLXRlc3Rpbmc=";
pub(crate) const SECRET_B: &str = "whsec_YW5vdGhlci1zZWNyZXQta2V5LXJvdGF0aW9u";

/// Points the device channel at `device`'s webhook, signed with both secrets.
pub(crate) fn webhook_channel(s: &mut Settings, device: &MockServer) {
    let url = format!("{}/ciba", device.uri());
    s.device.channel = authlete_gateway::config::DeviceChannel::Webhook;
    s.device.webhook = Some(
        toml::from_str(&format!(
            r#"
url = "{url}"
secrets = ["{SECRET_A}", "{SECRET_B}"]
allow_insecure_http = true
"#
        ))
        .unwrap(),
    );
}

async fn gateway(device: &MockServer) -> TestGateway {
    TestGateway::start_embedded(|s| webhook_channel(s, device)).await
}

fn header<'a>(request: &'a Request, name: &str) -> &'a str {
    request.headers.get(name).unwrap().to_str().unwrap()
}

#[actix_web::test]
async fn the_device_gets_a_signed_request_and_its_token_applies_the_decision() {
    if !webhook_verifier_installed() {
        return;
    }
    let device = receiver(204).await;
    let gw = gateway(&device).await;
    let ack = gw.start_ciba(POLL, "&binding_message=HOOK").await;
    let requests = received_at_least(&device, 1).await;
    let message = &requests[0];
    let body: Value = serde_json::from_slice(&message.body).unwrap();
    assert_eq!(body["type"], "authentication_request");
    assert_eq!(body["subject"], "alice");
    assert_eq!(body["client_id"], "poll-client");
    assert_eq!(body["binding_message"], "HOOK");
    assert_eq!(body["delivery_mode"], "poll");
    assert_eq!(
        body["decision_url"],
        "https://as.example.com/device/decisions"
    );
    assert!(body["resources"].is_null());
    let id = header(message, "webhook-id");
    assert_eq!(id, body["request_id"].as_str().unwrap());
    let timestamp = header(message, "webhook-timestamp");
    let sent_at: u64 = timestamp.parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(now.abs_diff(sent_at) < 30, "a fresh timestamp");
    assert_signed(message, &[SECRET_A, SECRET_B]).await;
    let token = body["decision_token"].as_str().unwrap();
    assert_eq!(
        gw.decide(token, r#"{"decision":"approve"}"#).await.status,
        204
    );
    gw.clock.advance(Duration::from_secs(5));
    let tokens = gw.poll(POLL, ack["auth_req_id"].as_str().unwrap()).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
}

#[actix_web::test]
async fn an_undecided_poll_request_is_cancelled_at_expiry() {
    let device = receiver(204).await;
    let gw = gateway(&device).await;
    let ack = gw.start_ciba(POLL, "").await;
    let first = received_at_least(&device, 1).await;
    let request_id = header(&first[0], "webhook-id").to_owned();
    gw.clock.advance(Duration::from_secs(601));
    let all = received_at_least(&device, 2).await;
    let cancelled = &all[1];
    assert_eq!(
        header(cancelled, "webhook-id"),
        format!("{request_id}.cancelled")
    );
    let body: Value = serde_json::from_slice(&cancelled.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"type": "cancelled", "request_id": request_id})
    );
    let reply = gw.poll(POLL, ack["auth_req_id"].as_str().unwrap()).await;
    assert_eq!(reply.json()["error"], "expired_token");
}
