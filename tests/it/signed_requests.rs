//! Signed backchannel requests end to end: a client signs its request object, the gateway
//! forwards it to its embedded emulator, and the device sees the request's context.

use authlete_gateway::clock::Clock;
use serde_json::{json, Value};

use crate::emulator::signing_client;
use crate::support::*;

const CLIENT: (&str, &str) = ("es-app", "es-app-secret");

async fn gateway() -> TestGateway {
    TestGateway::start_embedded(|s| {
        let jwks = jwks_text(&[ClientKey::p256()]);
        s.emulator
            .clients
            .push(signing_client(CLIENT.0, "ES256", Some(jwks)));
    })
    .await
}

/// A request object for alice, signed by the client's P-256 key, valid for five minutes.
fn request_object(gw: &TestGateway, jti: &str) -> String {
    let now = i64::try_from(gw.clock.unix_secs()).unwrap();
    let claims = json!({
        "iss": CLIENT.0, "aud": "https://as.example.com", "iat": now, "nbf": now,
        "exp": now + 300, "jti": jti, "scope": "openid email",
        "login_hint": "alice@example.com", "binding_message": "W4SCT",
        "request_context": {"channel": "branch", "branch_id": 7},
    });
    ClientKey::p256().sign("ES256", &claims)
}

async fn send(gw: &TestGateway, body: &str) -> Reply {
    let auth = basic(CLIENT.0, CLIENT.1);
    gw.post_form(
        "/backchannel/authentication",
        body,
        &[("Authorization", &auth)],
    )
    .await
}

#[actix_web::test]
async fn a_signed_request_is_accepted_and_its_context_reaches_the_device() {
    let gw = gateway().await;
    let reply = send(&gw, &format!("request={}", request_object(&gw, "jti-1"))).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.json()["auth_req_id"].is_string());
    let pending = gw.pending().await;
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0]["subject"], "alice");
    assert_eq!(pending[0]["binding_message"], "W4SCT");
    assert_eq!(
        pending[0]["request_context"],
        json!({"channel": "branch", "branch_id": 7})
    );
    // The same request object again is a replay.
    let again = send(&gw, &format!("request={}", request_object(&gw, "jti-1"))).await;
    assert_eq!(again.status, 400, "{}", again.body);
    assert!(again.json()["error_description"]
        .as_str()
        .unwrap()
        .starts_with("[A167318]"));
}

#[actix_web::test]
async fn a_signed_request_with_parameters_outside_it_is_refused() {
    let gw = gateway().await;
    let body = format!(
        "request={}&binding_message=OTHER",
        request_object(&gw, "jti-2")
    );
    let reply = send(&gw, &body).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    reply.assert_no_store_json();
    let error: Value = reply.json();
    assert_eq!(error["error"], "invalid_request");
    assert!(error["error_description"]
        .as_str()
        .unwrap()
        .starts_with("[A167301]"));
    assert!(gw.pending().await.is_empty());
}

#[actix_web::test]
async fn discovery_advertises_the_algorithms_the_emulator_verifies() {
    let gw = gateway().await;
    let reply = gw
        .get(&format!("{}/.well-known/openid-configuration", gw.base))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let algs =
        reply.json()["backchannel_authentication_request_signing_alg_values_supported"].clone();
    assert!(algs.as_array().unwrap().contains(&json!("ES256")), "{algs}");
    assert!(
        !algs.as_array().unwrap().contains(&json!("ES512")),
        "{algs}"
    );
    let plain = TestGateway::start_embedded(|_| {}).await;
    let reply = plain
        .get(&format!("{}/.well-known/openid-configuration", plain.base))
        .await;
    assert!(reply
        .json()
        .get("backchannel_authentication_request_signing_alg_values_supported")
        .is_none());
}
