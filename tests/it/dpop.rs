//! DPoP end to end (gateway + embedded emulator): a client proves possession of its key at the
//! token endpoint, gets a DPoP-bound token, and must prove it again at the userinfo endpoint.

use std::time::Duration;

use authlete_gateway::clock::Clock;

use crate::support::*;

const POLL: (&str, &str) = ("poll-client", "poll-secret");
const ISSUER: &str = "https://as.example.com";

/// An approved CIBA request's token request, with `DPoP: proof`.
async fn dpop_tokens(gw: &TestGateway, key: &ClientKey) -> Reply {
    let ack = gw.start_ciba(POLL, "").await;
    let pending = gw.pending().await;
    let decided = gw
        .decide(
            pending[0]["decision_token"].as_str().unwrap(),
            r#"{"decision":"approve"}"#,
        )
        .await;
    assert_eq!(decided.status, 204, "{}", decided.body);
    gw.clock.advance(Duration::from_secs(5));
    let now = i64::try_from(gw.clock.unix_secs()).unwrap();
    let proof = key.dpop_proof("POST", &format!("{ISSUER}/token"), now, None);
    let body = format!(
        "grant_type=urn%3Aopenid%3Aparams%3Agrant-type%3Aciba&auth_req_id={}",
        ack["auth_req_id"].as_str().unwrap()
    );
    let auth = basic(POLL.0, POLL.1);
    gw.post_form(
        "/token",
        &body,
        &[("Authorization", &auth), ("DPoP", &proof)],
    )
    .await
}

#[actix_web::test]
async fn a_dpop_bound_token_works_at_userinfo_only_with_a_proof_of_its_key() {
    let gw = TestGateway::start_embedded(|_| {}).await;
    let key = ClientKey::p256();
    let tokens = dpop_tokens(&gw, key).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert_eq!(tokens.json()["token_type"], "DPoP");
    let access = tokens.json()["access_token"].as_str().unwrap().to_owned();
    let scheme = format!("DPoP {access}");
    let now = i64::try_from(gw.clock.unix_secs()).unwrap();
    let userinfo_url = format!("{ISSUER}/userinfo");

    let without = gw
        .send("GET", "/userinfo", &[("Authorization", &scheme)], None)
        .await;
    assert_eq!(without.status, 401, "{}", without.body);
    let challenge = without.header("www-authenticate").unwrap();
    assert!(
        challenge.starts_with("DPoP error=\"invalid_token\""),
        "{challenge}"
    );
    assert!(challenge.contains("[A089311]"), "{challenge}");

    let foreign = ClientKey::ec("other").dpop_proof("GET", &userinfo_url, now, Some(&access));
    let refused = gw
        .send(
            "GET",
            "/userinfo",
            &[("Authorization", &scheme), ("DPoP", &foreign)],
            None,
        )
        .await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert!(refused
        .header("www-authenticate")
        .unwrap()
        .starts_with("DPoP error=\"invalid_dpop_proof\""));

    let proof = key.dpop_proof("GET", &userinfo_url, now, Some(&access));
    let claims = gw
        .send(
            "GET",
            "/userinfo",
            &[("Authorization", &scheme), ("DPoP", &proof)],
            None,
        )
        .await;
    assert_eq!(claims.status, 200, "{}", claims.body);
    assert_eq!(claims.json()["sub"], "alice");
}

#[actix_web::test]
async fn a_proof_for_another_endpoint_is_refused_at_the_token_endpoint() {
    let gw = TestGateway::start_embedded(|_| {}).await;
    let ack = gw.start_ciba(POLL, "").await;
    let now = i64::try_from(gw.clock.unix_secs()).unwrap();
    let proof = ClientKey::p256().dpop_proof("POST", &format!("{ISSUER}/userinfo"), now, None);
    let body = format!(
        "grant_type=urn%3Aopenid%3Aparams%3Agrant-type%3Aciba&auth_req_id={}",
        ack["auth_req_id"].as_str().unwrap()
    );
    let auth = basic(POLL.0, POLL.1);
    let reply = gw
        .post_form(
            "/token",
            &body,
            &[("Authorization", &auth), ("DPoP", &proof)],
        )
        .await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(reply.json()["error"], "invalid_dpop_proof");
    assert!(reply.json()["error_description"]
        .as_str()
        .unwrap()
        .starts_with("[A254301]"));
}
