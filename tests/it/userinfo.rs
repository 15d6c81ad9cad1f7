//! `/userinfo` and `/introspection` rules against a wiremock Authlete: token placement, the
//! Bearer challenge, DPoP forwarding, JWT answers, CORS, and unknown introspection callers.

use serde_json::json;

use authlete_gateway::config::{IntrospectionClient, Secret};

use crate::support::*;

const ORIGIN: &str = "https://app.example";

async fn gateway() -> TestGateway {
    TestGateway::start_with(|s| {
        s.server.cors_allowed_origins = vec![ORIGIN.into()];
        s.introspection.clients = vec![IntrospectionClient {
            id: "rs".into(),
            secret: None,
            // SHA-256 of "rs-secret"
            secret_sha256: Some(Secret::new(
                "95b763d8e90d5624b50490d9ba78000d4385bd24a60e26fc3de36cabf682f652",
            )),
            rs_uri: None,
        }];
    })
    .await
}

async fn assert_not_called(gw: &TestGateway, api: &str) {
    assert!(
        gw.received(api).await.is_empty(),
        "Authlete {api} was called"
    );
}

#[actix_web::test]
async fn no_token_gets_a_bearer_challenge_without_calling_authlete() {
    let gw = gateway().await;
    for (method, route) in [("GET", "/userinfo"), ("GET", "/userinfo?access_token=abc")] {
        let reply = gw.send(method, route, &[], None).await;
        assert_eq!(reply.status, 401, "{route}");
        assert_eq!(
            reply.header("www-authenticate"),
            Some(r#"Bearer realm="https://as.example.com""#)
        );
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        assert_eq!(reply.header("content-type"), None);
        assert!(reply.body.is_empty());
    }
    // A JSON body is not a place for a token.
    let json_body = gw
        .send(
            "POST",
            "/userinfo",
            &[("Content-Type", "application/json")],
            Some(r#"{"access_token":"abc"}"#),
        )
        .await;
    assert_eq!(json_body.status, 401);
    assert_not_called(&gw, "auth/userinfo").await;
}

#[actix_web::test]
async fn a_token_in_two_places_is_an_invalid_request() {
    let gw = gateway().await;
    let reply = gw
        .post_form(
            "/userinfo",
            "access_token=abc",
            &[("Authorization", "Bearer abc")],
        )
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["error"], "invalid_request");
    let twice_in_body = gw
        .post_form("/userinfo", "access_token=a&access_token=b", &[])
        .await;
    assert_eq!(twice_in_body.status, 400);
    assert_not_called(&gw, "auth/userinfo").await;
}

#[actix_web::test]
async fn authlete_errors_become_the_challenge_with_an_empty_body() {
    let gw = gateway().await;
    let challenge = r#"Bearer error="invalid_token",error_description="expired""#;
    gw.answer(
        "auth/userinfo",
        json!({"action": "UNAUTHORIZED", "responseContent": challenge, "dpopNonce": "n-1"}),
    )
    .await;
    let reply = gw
        .send("GET", "/userinfo", &[("Authorization", "Bearer abc")], None)
        .await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.header("www-authenticate"), Some(challenge));
    assert_eq!(reply.header("dpop-nonce"), Some("n-1"));
    assert_eq!(reply.header("content-type"), None);
    assert!(reply.body.is_empty());
}

#[actix_web::test]
async fn dpop_tokens_forward_the_proof_and_method_and_jwt_answers_keep_their_type() {
    let gw = gateway().await;
    gw.answer(
        "auth/userinfo",
        json!({"action": "OK", "subject": "alice", "claims": ["name", "email"]}),
    )
    .await;
    gw.answer(
        "auth/userinfo/issue",
        json!({"action": "JWT", "responseContent": "eyJ.e30.sig"}),
    )
    .await;
    let reply = gw
        .post_form(
            "/userinfo",
            "",
            &[("Authorization", "DPoP tok-1"), ("DPoP", "proof-1")],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("content-type"), Some("application/jwt"));
    assert_eq!(reply.body, "eyJ.e30.sig");
    let sent = &gw.received("auth/userinfo").await[0];
    assert_eq!(sent["token"], "tok-1");
    assert_eq!(sent["dpop"], "proof-1");
    assert_eq!(sent["htm"], "POST");
    assert!(sent.get("htu").is_none());
    let issue = &gw.received("auth/userinfo/issue").await[0];
    assert_eq!(issue["token"], "tok-1");
    let claims: serde_json::Value =
        serde_json::from_str(issue["claims"].as_str().unwrap()).unwrap();
    assert_eq!(claims, json!({"name": "Alice"}));
}

#[actix_web::test]
async fn cors_headers_and_preflight_only_for_allowed_origins() {
    let gw = gateway().await;
    let allowed = gw
        .send("GET", "/userinfo", &[("Origin", ORIGIN)], None)
        .await;
    assert_eq!(allowed.status, 401);
    assert_eq!(allowed.header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(
        allowed.header("access-control-expose-headers"),
        Some("WWW-Authenticate, DPoP-Nonce")
    );
    let other = gw
        .send(
            "GET",
            "/userinfo",
            &[("Origin", "https://evil.example")],
            None,
        )
        .await;
    assert_eq!(other.header("access-control-allow-origin"), None);

    let preflight = gw
        .send(
            "OPTIONS",
            "/userinfo",
            &[("Origin", ORIGIN), ("Access-Control-Request-Method", "GET")],
            None,
        )
        .await;
    assert_eq!(preflight.status, 204);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some(ORIGIN)
    );
    let refused = gw
        .send(
            "OPTIONS",
            "/userinfo",
            &[("Origin", "https://evil.example")],
            None,
        )
        .await;
    assert_eq!(refused.status, 405);
    assert_eq!(refused.header("allow"), Some("GET, POST"));
}

#[actix_web::test]
async fn introspection_refuses_unknown_callers_without_calling_authlete() {
    let gw = gateway().await;
    for auth in [
        None,
        Some(basic("rs", "wrong")),
        Some(basic("other", "rs-secret")),
        Some("Bearer rs-secret".to_owned()),
    ] {
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("Authorization", a.as_str())).collect();
        let reply = gw.post_form("/introspection", "token=abc", &headers).await;
        assert_eq!(reply.status, 401, "{auth:?}");
        reply.assert_no_store_json();
        assert_eq!(
            reply.header("www-authenticate"),
            Some(r#"Basic realm="https://as.example.com""#)
        );
        assert_eq!(reply.json()["error"], "invalid_client");
    }
    assert_not_called(&gw, "auth/introspection/standard").await;
}

#[actix_web::test]
async fn introspection_forwards_the_form_and_accept_and_maps_jwt() {
    let gw = gateway().await;
    gw.answer(
        "auth/introspection/standard",
        json!({"action": "JWT", "responseContent": "eyJ.jwt.sig"}),
    )
    .await;
    let auth = basic("rs", "rs-secret");
    let reply = gw
        .post_form(
            "/introspection",
            "token=abc&token_type_hint=access_token",
            &[
                ("Authorization", &auth),
                ("Accept", "application/token-introspection+jwt"),
            ],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.header("content-type"),
        Some("application/token-introspection+jwt")
    );
    assert_eq!(
        gw.received("auth/introspection/standard").await,
        vec![json!({
            "parameters": "token=abc&token_type_hint=access_token",
            "httpAcceptHeader": "application/token-introspection+jwt"
        })]
    );
}
