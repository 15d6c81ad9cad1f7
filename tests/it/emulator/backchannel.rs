//! `/backchannel/authentication`: the success response and each validation error.

use serde_json::json;

use super::{assert_oauth_error, Emu};

#[actix_web::test]
async fn valid_request_answers_user_identification_with_a_ticket_and_request_fields() {
    let emu = Emu::start().await;
    let params = "scope=openid+profile+email+unknown&login_hint=alice&binding_message=W4SCT\
                  &acr_values=urn%3Aacr%3Ahigh&requested_expiry=120";
    let r = emu.backchannel("poll-app", params).await;
    assert_eq!(r["resultCode"], "A179001");
    assert_eq!(
        r["resultMessage"],
        "[A179001] The backchannel authentication request was processed successfully."
    );
    assert_eq!(r["action"], "USER_IDENTIFICATION");
    let ticket = r["ticket"].as_str().unwrap();
    assert_eq!(ticket.len(), 43);
    assert!(ticket
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert!(r["clientId"].is_u64());
    assert_eq!(r["clientIdAlias"], "poll-app");
    assert_eq!(r["clientIdAliasUsed"], true);
    assert_eq!(r["clientName"], "poll-app name");
    assert_eq!(r["deliveryMode"], "POLL");
    assert_eq!(r["hintType"], "LOGIN_HINT");
    assert_eq!(r["hint"], "alice");
    assert_eq!(r["bindingMessage"], "W4SCT");
    assert_eq!(r["acrs"], json!(["urn:acr:high"]));
    assert_eq!(r["requestedExpiry"], 120);
    assert_eq!(r["userCodeRequired"], false);
    assert_eq!(
        r["scopes"],
        json!([{"name": "openid", "defaultEntry": false}, {"name": "profile", "defaultEntry": false}, {"name": "email", "defaultEntry": false}])
    );
    let claims = r["claimNames"].as_array().unwrap();
    assert!(claims.contains(&json!("given_name")) && claims.contains(&json!("email_verified")));
    assert!(r.get("sub").is_none() && r.get("responseContent").is_none());
}

#[actix_web::test]
async fn client_secret_post_credentials_inside_parameters_are_accepted() {
    let emu = Emu::start().await;
    let body = json!({"parameters": "scope=openid&login_hint=a&client_id=post-app&client_secret=post-app-secret"});
    let (_, r) = emu.call("backchannel/authentication", body).await;
    assert_eq!(r["action"], "USER_IDENTIFICATION", "{r}");
    assert_eq!(r["clientAuthMethod"], "CLIENT_SECRET_POST");
}

#[actix_web::test]
async fn public_client_is_rejected_with_a168311() {
    let emu = Emu::start().await;
    let body = json!({"parameters": "scope=openid&login_hint=a&client_id=public-app"});
    let (_, r) = emu.call("backchannel/authentication", body).await;
    assert_oauth_error(&r, "BAD_REQUEST", "A168311", "unauthorized_client");
}

#[actix_web::test]
async fn wrong_secret_missing_secret_or_unknown_client_answers_unauthorized() {
    let emu = Emu::start().await;
    let body = json!({"parameters": "scope=openid&login_hint=a", "clientId": "poll-app", "clientSecret": "bad"});
    let (_, r) = emu.call("backchannel/authentication", body).await;
    assert_oauth_error(&r, "UNAUTHORIZED", "A157305", "invalid_client");

    let body = json!({"parameters": "scope=openid&login_hint=a&client_id=poll-app"});
    let (_, r) = emu.call("backchannel/authentication", body).await;
    assert_oauth_error(&r, "UNAUTHORIZED", "A157304", "invalid_client");
    assert_eq!(
        r["resultMessage"],
        "[A157304] The client authentication method is 'client_secret_basic' but the request does not include a client secret."
    );

    let body = json!({"parameters": "scope=openid&login_hint=a", "clientId": "nobody", "clientSecret": "x"});
    let (_, r) = emu.call("backchannel/authentication", body).await;
    assert_oauth_error(&r, "UNAUTHORIZED", "A168310", "invalid_client");
    assert_eq!(
        r["resultMessage"],
        "[A168310] Information about the client application having the client ID 'nobody' was not found."
    );
}

#[actix_web::test]
async fn hints_must_be_exactly_one() {
    let emu = Emu::start().await;
    let r = emu.backchannel("poll-app", "scope=openid").await;
    assert_oauth_error(&r, "BAD_REQUEST", "A174301", "invalid_request");
    assert_eq!(
        super::content(&r)["error_description"],
        "[A174301] The backchannel authentication request does not contain any hint."
    );
    let r = emu
        .backchannel("poll-app", "scope=openid&login_hint=a&login_hint_token=b")
        .await;
    assert_oauth_error(&r, "BAD_REQUEST", "A174302", "invalid_request");
}

#[actix_web::test]
async fn openid_scope_is_mandatory() {
    let emu = Emu::start().await;
    let r = emu
        .backchannel("poll-app", "scope=profile&login_hint=a")
        .await;
    assert_oauth_error(&r, "BAD_REQUEST", "A176304", "invalid_scope");
    assert_eq!(
        super::content(&r)["error_description"],
        "[A176304] The backchannel authentication request does not include the mandatory scope 'openid'."
    );
}

#[actix_web::test]
async fn ping_and_push_need_a_valid_client_notification_token() {
    let emu = Emu::start().await;
    let r = emu
        .backchannel("ping-app", "scope=openid&login_hint=a")
        .await;
    assert_oauth_error(&r, "BAD_REQUEST", "A155301", "invalid_request");
    let long = "a".repeat(1025);
    let r = emu
        .backchannel(
            "push-app",
            &format!("scope=openid&login_hint=a&client_notification_token={long}"),
        )
        .await;
    assert_oauth_error(&r, "BAD_REQUEST", "A155302", "invalid_request");
    let r = emu
        .backchannel(
            "ping-app",
            "scope=openid&login_hint=a&client_notification_token=a%20b",
        )
        .await;
    assert_oauth_error(&r, "BAD_REQUEST", "A155303", "invalid_request");
    let ok = "a".repeat(1024);
    let r = emu
        .backchannel(
            "ping-app",
            &format!("scope=openid&login_hint=a&client_notification_token={ok}"),
        )
        .await;
    assert_eq!(r["clientNotificationToken"].as_str().unwrap().len(), 1024);
}

#[actix_web::test]
async fn user_code_is_required_when_the_client_requires_it() {
    let emu = Emu::start().await;
    let r = emu
        .backchannel("code-app", "scope=openid&login_hint=a")
        .await;
    assert_oauth_error(&r, "BAD_REQUEST", "A177301", "missing_user_code");
    let r = emu
        .backchannel("code-app", "scope=openid&login_hint=a&user_code=1234")
        .await;
    assert_eq!(
        (r["userCode"].as_str(), r["userCodeRequired"].as_bool()),
        (Some("1234"), Some(true))
    );

    let emu = Emu::start_with(|s| s.user_code_supported = false).await;
    let r = emu
        .backchannel("code-app", "scope=openid&login_hint=a")
        .await;
    assert_eq!(
        (r["action"].as_str(), r["userCodeRequired"].as_bool()),
        (Some("USER_IDENTIFICATION"), Some(false))
    );
}

#[actix_web::test]
async fn requested_expiry_must_be_a_positive_integer_and_shortens_the_lifetime() {
    let emu = Emu::start().await;
    let r = emu
        .backchannel(
            "poll-app",
            "scope=openid&login_hint=a&requested_expiry=soon",
        )
        .await;
    assert_oauth_error(&r, "BAD_REQUEST", "A201301", "invalid_request");
    let r = emu
        .backchannel("poll-app", "scope=openid&login_hint=a&requested_expiry=0")
        .await;
    assert_oauth_error(&r, "BAD_REQUEST", "A201302", "invalid_request");

    for (requested, expected) in [(30, 30), (100_000, 600)] {
        let r = emu
            .backchannel(
                "poll-app",
                &format!("scope=openid&login_hint=a&requested_expiry={requested}"),
            )
            .await;
        let (_, issued) = emu
            .call(
                "backchannel/authentication/issue",
                json!({"ticket": r["ticket"]}),
            )
            .await;
        assert_eq!(issued["expiresIn"], expected);
    }
}

#[actix_web::test]
async fn id_token_hint_must_be_an_id_token_of_this_issuer() {
    let emu = Emu::start().await;
    let id = emu.authorized("poll-app").await;
    let id_token = emu.ciba_token("poll-app", &id).await["idToken"]
        .as_str()
        .unwrap()
        .to_owned();

    let r = emu
        .backchannel(
            "poll-app",
            &format!("scope=openid&id_token_hint={id_token}"),
        )
        .await;
    assert_eq!(r["hintType"], "ID_TOKEN_HINT");
    assert_eq!(r["sub"], "alice");
    assert_eq!(r["hint"], id_token.as_str());

    let r = emu
        .backchannel("poll-app", "scope=openid&id_token_hint=not.a.jwt")
        .await;
    assert_oauth_error(&r, "BAD_REQUEST", "A175301", "invalid_request");

    let mut tampered = id_token.clone();
    tampered.push_str("AA");
    let r = emu
        .backchannel(
            "poll-app",
            &format!("scope=openid&id_token_hint={tampered}"),
        )
        .await;
    assert_eq!(r["action"], "BAD_REQUEST");

    // Same key, other issuer: an emulator for another public URL.
    let elsewhere = Emu::start_at("https://elsewhere.example", |_| {}).await;
    let id = elsewhere.authorized("poll-app").await;
    let foreign = elsewhere.ciba_token("poll-app", &id).await["idToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = emu
        .backchannel("poll-app", &format!("scope=openid&id_token_hint={foreign}"))
        .await;
    assert_oauth_error(&r, "BAD_REQUEST", "A175306", "invalid_request");
}
