//! Tokens issued through CIBA at introspection, revocation and userinfo.

use serde_json::{json, Value};

use super::{content, Emu};

/// The token response envelope for a fresh CIBA grant to poll-app.
async fn tokens(emu: &Emu, extra: Value) -> Value {
    let (ticket, id) = emu.issued("poll-app").await;
    emu.complete(&ticket, extra).await;
    emu.ciba_token("poll-app", &id).await
}

async fn standard(emu: &Emu, token: &str) -> Value {
    let (_, r) = emu
        .call(
            "auth/introspection/standard",
            json!({"parameters": format!("token={token}")}),
        )
        .await;
    assert_eq!(r["action"], "OK");
    content(&r)
}

#[actix_web::test]
async fn standard_introspection_reports_active_then_inactive_after_revocation() {
    let emu = Emu::start().await;
    let t = tokens(&emu, json!({})).await;
    let access = t["accessToken"].as_str().unwrap();
    let body = standard(&emu, access).await;
    assert_eq!(body["active"], true);
    assert_eq!(body["scope"], "openid profile");
    assert_eq!(body["client_id"], "poll-app");
    assert_eq!(body["sub"], "alice");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(
        body["exp"].as_u64(),
        t["accessTokenExpiresAt"].as_u64().map(|ms| ms / 1000)
    );

    let revoke = json!({"parameters": format!("token={}", t["refreshToken"].as_str().unwrap()), "clientId": "poll-app", "clientSecret": "poll-app-secret"});
    let (_, r) = emu.call("auth/revocation", revoke).await;
    assert_eq!(
        (r["action"].as_str(), r["resultCode"].as_str()),
        (Some("OK"), Some("A113001"))
    );
    assert_eq!(standard(&emu, access).await, json!({"active": false}));
    assert_eq!(standard(&emu, "unknown").await, json!({"active": false}));
}

#[actix_web::test]
async fn expired_tokens_are_inactive() {
    let emu = Emu::start().await;
    let t = tokens(&emu, json!({})).await;
    emu.advance(3600);
    assert_eq!(
        standard(&emu, t["accessToken"].as_str().unwrap()).await,
        json!({"active": false})
    );
    let (_, r) = emu
        .call("auth/userinfo", json!({"token": t["accessToken"]}))
        .await;
    assert_eq!(
        (r["action"].as_str(), r["resultCode"].as_str()),
        (Some("UNAUTHORIZED"), Some("A093303"))
    );
}

#[actix_web::test]
async fn revocation_needs_client_authentication_and_ownership() {
    let emu = Emu::start().await;
    let t = tokens(&emu, json!({})).await;
    let params = format!("token={}", t["accessToken"].as_str().unwrap());
    let (_, r) = emu
        .call(
            "auth/revocation",
            json!({"parameters": params, "clientId": "poll-app", "clientSecret": "x"}),
        )
        .await;
    assert_eq!(r["action"], "INVALID_CLIENT");
    let (_, r) = emu.call("auth/revocation", json!({"parameters": params, "clientId": "other-app", "clientSecret": "other-app-secret"})).await;
    assert_eq!(r["action"], "BAD_REQUEST");
    assert_eq!(
        standard(&emu, t["accessToken"].as_str().unwrap()).await["active"],
        true
    );
}

#[actix_web::test]
async fn resource_server_introspection_answers_fields_or_a_bearer_challenge() {
    let emu = Emu::start().await;
    let t = tokens(
        &emu,
        json!({"consentedClaims": ["name"], "acr": "urn:acr:high"}),
    )
    .await;
    let (_, r) = emu
        .call(
            "auth/introspection",
            json!({"token": t["accessToken"], "scopes": ["openid"]}),
        )
        .await;
    assert_eq!(
        (r["action"].as_str(), r["resultCode"].as_str()),
        (Some("OK"), Some("A056001"))
    );
    assert_eq!(r["subject"], "alice");
    assert_eq!(r["scopes"], json!(["openid", "profile"]));
    assert_eq!(r["expiresAt"], t["accessTokenExpiresAt"]);
    assert_eq!(
        (
            r["usable"].as_bool(),
            r["existent"].as_bool(),
            r["refreshable"].as_bool()
        ),
        (Some(true), Some(true), Some(true))
    );
    assert_eq!(r["consentedClaims"], json!(["name"]));
    assert_eq!(r["clientId"], t["clientId"]);

    let (_, r) = emu
        .call(
            "auth/introspection",
            json!({"token": t["accessToken"], "scopes": ["email"]}),
        )
        .await;
    assert_eq!(r["action"], "FORBIDDEN");
    let (_, r) = emu
        .call("auth/introspection", json!({"token": "nope"}))
        .await;
    assert_eq!(r["action"], "UNAUTHORIZED");
    assert_eq!(
        r["responseContent"],
        "Bearer error=\"invalid_token\",error_description=\"[A057302] The access token does not exist.\",error_uri=\"https://docs.authlete.com/#A057302\""
    );
}

#[actix_web::test]
async fn userinfo_names_the_claims_and_issue_builds_the_response() {
    let emu = Emu::start().await;
    let t = tokens(&emu, json!({"consentedClaims": ["name", "given_name"]})).await;
    let (_, r) = emu
        .call("auth/userinfo", json!({"token": t["accessToken"]}))
        .await;
    assert_eq!(
        (r["action"].as_str(), r["resultCode"].as_str()),
        (Some("OK"), Some("A091001"))
    );
    assert_eq!(r["subject"], "alice");
    assert!(r["claims"]
        .as_array()
        .unwrap()
        .contains(&json!("given_name")));
    assert_eq!(r["scopes"], json!(["openid", "profile"]));
    assert_eq!(r["consentedClaims"], json!(["name", "given_name"]));
    assert_eq!(r["token"], t["accessToken"]);
    assert_eq!(r["clientId"], t["clientId"]);

    let body = json!({"token": t["accessToken"], "claims": "{\"given_name\":\"Alice\"}"});
    let (_, r) = emu.call("auth/userinfo/issue", body).await;
    assert_eq!(
        (r["action"].as_str(), r["resultCode"].as_str()),
        (Some("JSON"), Some("A096001"))
    );
    assert_eq!(content(&r), json!({"sub": "alice", "given_name": "Alice"}));

    let (_, r) = emu.call("auth/userinfo", json!({"token": "nope"})).await;
    assert_eq!(r["action"], "UNAUTHORIZED");
    assert!(r["responseContent"]
        .as_str()
        .unwrap()
        .starts_with("Bearer error=\"invalid_token\""));
}
