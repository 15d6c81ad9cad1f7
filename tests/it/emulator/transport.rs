//! API credentials (v2 and v3), body encodings and fault injection.

use std::time::{Duration, Instant};

use authlete_gateway::emulator::Fault;
use serde_json::json;

use super::Emu;

#[actix_web::test]
async fn missing_authorization_header_answers_401_a001202_on_both_generations() {
    let emu = Emu::start().await;
    let v2 = format!("{}/api/auth/token", emu.run.base_url);
    for url in [emu.v3("auth/token"), v2] {
        let mut response = emu.http().post(url).send_json(&json!({})).await.unwrap();
        assert_eq!(response.status().as_u16(), 401);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(
            body,
            json!({"resultCode": "A001202", "resultMessage": "[A001202] /auth/token, Authorization header is missing."})
        );
    }
}

#[actix_web::test]
async fn wrong_v3_token_answers_a003201_and_foreign_service_id_a003204() {
    let emu = Emu::start().await;
    let mut response = emu
        .http()
        .post(emu.v3("auth/token"))
        .bearer_auth("nope")
        .send_json(&json!({}))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["resultCode"], "A003201");
    assert_eq!(
        body["resultMessage"],
        "[A003201] /auth/token, No service has the API credentials."
    );

    let url = format!(
        "{}/api/{}/auth/token",
        emu.run.base_url,
        emu.run.service_id + 1
    );
    let mut response = emu
        .http()
        .post(url)
        .bearer_auth(&emu.run.access_token)
        .send_json(&json!({}))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["resultCode"], "A003204");
}

#[actix_web::test]
async fn v2_basic_credentials_are_checked_and_reach_the_same_service() {
    let emu = Emu::start().await;
    let url = format!("{}/api/service/configuration", emu.run.base_url);
    let cases = [
        (
            emu.run.api_key.clone(),
            "wrong".to_owned(),
            401,
            Some("A003204"),
        ),
        (
            "123".to_owned(),
            emu.run.api_secret.clone(),
            401,
            Some("A003201"),
        ),
        (
            emu.run.api_key.clone(),
            emu.run.api_secret.clone(),
            200,
            None,
        ),
    ];
    for (key, secret, status, code) in cases {
        let mut response = emu
            .http()
            .get(&url)
            .basic_auth(&key, &secret)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status);
        let body: serde_json::Value = response.json().await.unwrap();
        match code {
            Some(code) => assert_eq!(body["resultCode"], code),
            None => assert_eq!(body["issuer"], super::ISSUER),
        }
    }
}

#[actix_web::test]
async fn form_urlencoded_bodies_are_accepted() {
    let emu = Emu::start().await;
    let form = [
        ("parameters", "scope=openid&login_hint=alice"),
        ("clientId", "poll-app"),
        ("clientSecret", "poll-app-secret"),
    ];
    let mut response = emu
        .http()
        .post(emu.v3("backchannel/authentication"))
        .bearer_auth(&emu.run.access_token)
        .send_form(&form)
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["action"], "USER_IDENTIFICATION");
    assert_eq!(body["hint"], "alice");
}

#[actix_web::test]
async fn injected_429_answers_the_next_calls_on_one_api_with_rate_limit_headers() {
    let emu = Emu::start().await;
    emu.run.faults.inject(
        Fault::status(429)
            .on("auth/token")
            .times(2)
            .header("Retry-After", "3")
            .header("RateLimit-Reset", "3")
            .body(r#"{"resultCode":"A001101"}"#),
    );
    // Another API is not affected.
    assert_eq!(emu.get("service/jwks/get").await.0, 200);
    for _ in 0..2 {
        let response = emu
            .http()
            .post(emu.v3("auth/token"))
            .bearer_auth(&emu.run.access_token)
            .send_json(&json!({}))
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 429);
        assert_eq!(response.headers().get("retry-after").unwrap(), "3");
        assert_eq!(response.headers().get("ratelimit-reset").unwrap(), "3");
    }
    assert_eq!(emu.run.faults.remaining(), 0);
    let (status, body) = emu.call("auth/token", json!({})).await;
    assert_eq!(
        (status, body["action"].as_str()),
        (200, Some("INTERNAL_SERVER_ERROR"))
    );
}

#[actix_web::test]
async fn injected_503_without_body_carries_an_a001101_envelope_and_delay_waits() {
    let emu = Emu::start().await;
    emu.run.faults.inject(Fault::status(503));
    let (status, body) = emu.get("service/configuration").await;
    assert_eq!(status, 503);
    assert_eq!(body["resultCode"], "A001101");

    emu.run
        .faults
        .inject(Fault::delay(Duration::from_millis(200)));
    let started = Instant::now();
    let (status, _) = emu.get("service/configuration").await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(200));
}
