//! Ping and push end to end: gateway + embedded emulator + a local notification receiver, time
//! injected where waiting would be slow.

use std::time::Duration;

use serde_json::{json, Value};
use wiremock::{MockServer, Request};

use crate::support::*;

pub(crate) const PING: (&str, &str) = ("ping-client", "ping-secret");
const PUSH: (&str, &str) = ("push-client", "push-secret");
const NOTIFICATION_TOKEN: &str = "client-notification-token-123";

/// A gateway whose emulator has a ping and a push client notifying `receiver`.
async fn gateway(receiver: &MockServer) -> TestGateway {
    gateway_with(receiver, |_| {}).await
}

/// As `gateway`, with the settings then changed by `adjust`.
pub(crate) async fn gateway_with(
    receiver: &MockServer,
    adjust: impl FnOnce(&mut authlete_gateway::config::Settings),
) -> TestGateway {
    let endpoint = format!("{}/cb", receiver.uri());
    TestGateway::start_embedded(move |s| {
        for (id, secret, mode) in [
            ("ping-client", "ping-secret", "ping"),
            ("push-client", "push-secret", "push"),
        ] {
            let client: authlete_gateway::config::EmulatorClient = toml::from_str(&format!(
                r#"
client_id = "{id}"
client_secret = "{secret}"
delivery_mode = "{mode}"
notification_endpoint = "{endpoint}"
"#
            ))
            .unwrap();
            s.emulator.clients.push(client);
        }
        adjust(s);
    })
    .await
}

async fn start(gw: &TestGateway, client: (&str, &str)) -> (String, String) {
    let ack = gw
        .start_ciba(
            client,
            &format!("&client_notification_token={NOTIFICATION_TOKEN}"),
        )
        .await;
    let entry = gw.pending().await[0].clone();
    (
        ack["auth_req_id"].as_str().unwrap().to_owned(),
        entry["decision_token"].as_str().unwrap().to_owned(),
    )
}

fn body(request: &Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

#[actix_web::test]
async fn ping_client_receives_notification_after_approval_then_gets_tokens() {
    let receiver = receiver(204).await;
    let gw = gateway(&receiver).await;
    let (auth_req_id, token) = start(&gw, PING).await;
    assert_eq!(
        gw.decide(&token, r#"{"decision":"approve"}"#).await.status,
        204
    );
    let requests = received_at_least(&receiver, 1).await;
    let notification = &requests[0];
    assert_eq!(
        notification.headers.get("authorization").unwrap(),
        &format!("Bearer {NOTIFICATION_TOKEN}")
    );
    assert_eq!(
        notification.headers.get("content-type").unwrap(),
        "application/json"
    );
    assert_eq!(body(notification), json!({"auth_req_id": auth_req_id}));
    let tokens = gw.poll(PING, &auth_req_id).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert!(tokens.json()["access_token"].is_string());
    let metrics = gw.metrics().await;
    assert_eq!(
        sample(
            &metrics,
            r#"gateway_notifications_total{mode="ping",outcome="delivered"}"#
        ),
        1.0
    );
}

#[actix_web::test]
async fn ping_client_hears_of_a_denial_and_gets_access_denied() {
    let receiver = receiver(204).await;
    let gw = gateway(&receiver).await;
    let (auth_req_id, token) = start(&gw, PING).await;
    assert_eq!(
        gw.decide(&token, r#"{"decision":"deny"}"#).await.status,
        204
    );
    let requests = received_at_least(&receiver, 1).await;
    assert_eq!(body(&requests[0]), json!({"auth_req_id": auth_req_id}));
    let reply = gw.poll(PING, &auth_req_id).await;
    assert_eq!(reply.json()["error"], "access_denied");
}

#[actix_web::test]
async fn an_undecided_ping_request_is_failed_at_the_deadline() {
    let receiver = receiver(204).await;
    let gw = gateway(&receiver).await;
    let (auth_req_id, _) = start(&gw, PING).await;
    // The deadline is 0.8 of the 600 s lifetime.
    gw.clock.advance(Duration::from_secs(481));
    let requests = received_at_least(&receiver, 1).await;
    assert_eq!(body(&requests[0]), json!({"auth_req_id": auth_req_id}));
    let reply = gw.poll(PING, &auth_req_id).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["error"], "expired_token");
    let metrics = gw.metrics().await;
    assert_eq!(
        sample(
            &metrics,
            r#"gateway_device_decisions_total{decision="timeout"}"#
        ),
        1.0
    );
}

#[actix_web::test]
async fn push_client_receives_tokens_whose_id_token_verifies() {
    let receiver = receiver(200).await;
    let gw = gateway(&receiver).await;
    let (auth_req_id, token) = start(&gw, PUSH).await;
    assert_eq!(
        gw.decide(&token, r#"{"decision":"approve"}"#).await.status,
        204
    );
    let requests = received_at_least(&receiver, 1).await;
    let payload = body(&requests[0]);
    assert_eq!(payload["auth_req_id"], auth_req_id.as_str());
    assert!(payload["access_token"].is_string());
    let id_token = payload["id_token"].as_str().unwrap();
    let claims = verify_id_token(&gw, id_token, "push-client").await;
    assert_eq!(claims["sub"], "alice");
    assert_eq!(
        claims["urn:openid:params:jwt:claim:auth_req_id"],
        auth_req_id.as_str()
    );
    assert!(claims["at_hash"].is_string());
    let at_token_endpoint = gw.poll(PUSH, &auth_req_id).await;
    assert_eq!(at_token_endpoint.json()["error"], "unauthorized_client");
}

#[actix_web::test]
async fn push_client_receives_an_error_payload_after_denial() {
    let receiver = receiver(204).await;
    let gw = gateway(&receiver).await;
    let (auth_req_id, token) = start(&gw, PUSH).await;
    assert_eq!(
        gw.decide(&token, r#"{"decision":"deny"}"#).await.status,
        204
    );
    let requests = received_at_least(&receiver, 1).await;
    let payload = body(&requests[0]);
    assert_eq!(payload["auth_req_id"], auth_req_id.as_str());
    assert_eq!(payload["error"], "access_denied");
    assert!(payload.get("access_token").is_none());
}

/// Verifies an RS256 ID token against the gateway's published JWKS.
async fn verify_id_token(gw: &TestGateway, id_token: &str, audience: &str) -> Value {
    let jwks = gw.get(&format!("{}/jwks", gw.base)).await;
    assert_eq!(jwks.status, 200, "{}", jwks.body);
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_str(&jwks.body).unwrap();
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    let jwk = set.find(header.kid.as_deref().unwrap()).unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[audience]);
    validation.set_issuer(&["https://as.example.com"]);
    // The emulator's clock is the test's manual clock, which starts at the real time.
    jsonwebtoken::decode::<Value>(id_token, &key, &validation)
        .unwrap()
        .claims
}
