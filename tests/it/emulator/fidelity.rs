//! Answers that match Authlete's own where the emulator used to be more lenient: repeated
//! parameters, `parameters` the caller got wrong, and the catalogue's codes and messages.

use serde_json::json;

use super::{assert_oauth_error, Emu};

#[actix_web::test]
async fn a_login_hint_sent_twice_is_refused_with_a166304() {
    let emu = Emu::start().await;
    let r = emu
        .backchannel("poll-app", "scope=openid&login_hint=alice&login_hint=bob")
        .await;
    assert_oauth_error(&r, "BAD_REQUEST", "A166304", "invalid_request");
    assert_eq!(
        r["resultMessage"],
        "[A166304] The request parameter 'login_hint' is included in the request more than once."
    );
}

#[actix_web::test]
async fn every_single_valued_backchannel_parameter_sent_twice_is_refused() {
    let emu = Emu::start().await;
    for name in [
        "scope",
        "acr_values",
        "binding_message",
        "user_code",
        "requested_expiry",
        "client_notification_token",
    ] {
        let params = format!("scope=openid&login_hint=alice&{name}=1&{name}=2");
        let params = params.replacen("scope=openid&", "", usize::from(name == "scope"));
        let r = emu.backchannel("poll-app", &params).await;
        assert_oauth_error(&r, "BAD_REQUEST", "A166304", "invalid_request");
        assert!(r["resultMessage"]
            .as_str()
            .unwrap()
            .contains(&format!("'{name}'")));
    }
    let r = emu
        .backchannel(
            "poll-app",
            "scope=openid&login_hint=a&resource=https%3A%2F%2Fa&resource=https%3A%2F%2Fb",
        )
        .await;
    assert_eq!(
        r["action"], "USER_IDENTIFICATION",
        "resource may repeat: {r}"
    );
}

#[actix_web::test]
async fn token_request_parameters_sent_twice_get_each_grants_own_code() {
    let emu = Emu::start().await;
    let id = emu.authorized("poll-app").await;
    let ciba = "grant_type=urn%3Aopenid%3Aparams%3Agrant-type%3Aciba";
    let r = emu
        .token(
            "poll-app",
            &format!("{ciba}&auth_req_id={id}&auth_req_id={id}"),
        )
        .await;
    assert_oauth_error(&r, "BAD_REQUEST", "A200303", "invalid_request");
    let r = emu
        .token(
            "poll-app",
            &format!("{ciba}&grant_type=refresh_token&auth_req_id={id}"),
        )
        .await;
    assert_oauth_error(&r, "BAD_REQUEST", "A049303", "invalid_request");
    let r = emu
        .token(
            "poll-app",
            "grant_type=refresh_token&refresh_token=a&refresh_token=b",
        )
        .await;
    assert_oauth_error(&r, "BAD_REQUEST", "A053303", "invalid_request");
    let r = emu
        .token(
            "poll-app",
            "grant_type=refresh_token&refresh_token=a&scope=openid&scope=x",
        )
        .await;
    assert_oauth_error(&r, "BAD_REQUEST", "A053304", "invalid_request");
    let r = emu
        .token("cc-app", "grant_type=client_credentials&scope=a&scope=b")
        .await;
    assert_oauth_error(&r, "BAD_REQUEST", "A052302", "invalid_request");
    let r = emu
        .token(
            "poll-app",
            &format!("{ciba}&auth_req_id={id}&client_id=poll-app&client_id=poll-app"),
        )
        .await;
    assert_oauth_error(&r, "BAD_REQUEST", "A048303", "invalid_request");
}

#[actix_web::test]
async fn revocation_and_introspection_parameters_sent_twice_are_refused() {
    let emu = Emu::start().await;
    let body = json!({"parameters": "token=a&token=b", "clientId": "poll-app", "clientSecret": "poll-app-secret"});
    let (_, r) = emu.call("auth/revocation", body).await;
    assert_oauth_error(&r, "BAD_REQUEST", "A115303", "invalid_request");
    let body = json!({"parameters": "token=a&token_type_hint=x&token_type_hint=y", "clientId": "poll-app", "clientSecret": "poll-app-secret"});
    let (_, r) = emu.call("auth/revocation", body).await;
    assert_oauth_error(&r, "BAD_REQUEST", "A166304", "invalid_request");
    let (_, r) = emu
        .call(
            "auth/introspection/standard",
            json!({"parameters": "token=a&token=b"}),
        )
        .await;
    assert_oauth_error(&r, "BAD_REQUEST", "A166304", "invalid_request");
}

#[actix_web::test]
async fn missing_parameters_are_the_callers_error_and_missing_tokens_the_clients() {
    let emu = Emu::start().await;
    for (api, code) in [
        ("backchannel/authentication", "A166201"),
        ("auth/token", "A047201"),
        ("auth/revocation", "A113201"),
        ("auth/introspection/standard", "A145201"),
    ] {
        let (_, r) = emu.call(api, json!({"clientId": "poll-app"})).await;
        assert_oauth_error(&r, "INTERNAL_SERVER_ERROR", code, "server_error");
    }
    let (_, r) = emu
        .call(
            "auth/introspection/standard",
            json!({"parameters": "token_type_hint=x"}),
        )
        .await;
    assert_oauth_error(&r, "BAD_REQUEST", "A145302", "invalid_request");
    assert_eq!(
        r["resultMessage"],
        "[A145302] The 'token' request parameter is missing."
    );
    let (_, r) = emu
        .call(
            "auth/introspection/standard",
            json!({"parameters": "token=unknown"}),
        )
        .await;
    assert_eq!(
        r["resultMessage"],
        "[A145001] Introspection was performed successfully (type=null, active=false)."
    );
}
