//! `/auth/token`: the CIBA grant's errors and success, the exchange race, refresh and
//! client credentials.

use serde_json::{json, Value};

use super::{assert_oauth_error, content, Emu};

#[actix_web::test]
async fn pending_request_answers_authorization_pending() {
    let emu = Emu::start().await;
    let (_, id) = emu.issued("poll-app").await;
    let r = emu.ciba_token("poll-app", &id).await;
    assert_oauth_error(&r, "BAD_REQUEST", "A200308", "authorization_pending");
}

#[actix_web::test]
async fn authorized_request_yields_tokens_once() {
    let emu = Emu::start().await;
    let id = emu.authorized("poll-app").await;
    let r = emu.ciba_token("poll-app", &id).await;
    assert_eq!(
        (r["action"].as_str(), r["resultCode"].as_str()),
        (Some("OK"), Some("A200002"))
    );
    let body = content(&r);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "openid profile");
    assert_eq!(body["access_token"], r["accessToken"]);
    assert_eq!(body["refresh_token"], r["refreshToken"]);
    assert_eq!(body["id_token"], r["idToken"]);
    assert_eq!(r["grantType"], "CIBA");
    assert_eq!(r["subject"], "alice");
    assert_eq!(r["scopes"], json!(["openid", "profile"]));
    let now_ms = authlete_gateway::clock::Clock::unix_millis(emu.clock.as_ref());
    assert_eq!(r["accessTokenExpiresAt"].as_u64(), Some(now_ms + 3_600_000));
    assert!(r["clientId"].is_u64());

    let again = emu.ciba_token("poll-app", &id).await;
    assert_oauth_error(&again, "BAD_REQUEST", "A200304", "invalid_grant");
}

#[actix_web::test]
async fn denied_and_failed_requests_answer_their_error_then_stay_consumed() {
    let emu = Emu::start().await;
    for (result, error) in [
        ("ACCESS_DENIED", "access_denied"),
        ("TRANSACTION_FAILED", "expired_token"),
    ] {
        let (ticket, id) = emu.issued("poll-app").await;
        emu.complete(&ticket, json!({"result": result})).await;
        let r = emu.ciba_token("poll-app", &id).await;
        assert_oauth_error(&r, "BAD_REQUEST", "A200001", error);
        assert_eq!(
            content(&r)["error_description"],
            format!("[A200001] Generated an error response corresponding to the result ({result}) given to the /api/backchannel/authentication/complete API.")
        );
        let again = emu.ciba_token("poll-app", &id).await;
        assert_eq!(again["resultCode"], "A200304");
    }
}

#[actix_web::test]
async fn transaction_failed_switch_answers_transaction_failed() {
    let emu = Emu::start_with(|s| {
        s.transaction_failed_error =
            authlete_gateway::config::TransactionFailedError::TransactionFailed
    })
    .await;
    let (ticket, id) = emu.issued("ping-app").await;
    emu.complete(&ticket, json!({"result": "TRANSACTION_FAILED"}))
        .await;
    let r = emu.ciba_token("ping-app", &id).await;
    assert_oauth_error(&r, "BAD_REQUEST", "A200001", "transaction_failed");
}

#[actix_web::test]
async fn expiry_wins_even_after_complete() {
    let emu = Emu::start().await;
    let (_, pending) = emu.issued("poll-app").await;
    let done = emu.authorized("poll-app").await;
    emu.advance(599);
    assert_eq!(
        emu.ciba_token("poll-app", &pending).await["resultCode"],
        "A200308"
    );
    emu.advance(1);
    for id in [pending, done] {
        let r = emu.ciba_token("poll-app", &id).await;
        assert_oauth_error(&r, "BAD_REQUEST", "A200307", "expired_token");
    }
}

#[actix_web::test]
async fn unknown_foreign_and_push_mode_ids_are_refused() {
    let emu = Emu::start().await;
    let r = emu.ciba_token("poll-app", "unknown-id").await;
    assert_oauth_error(&r, "BAD_REQUEST", "A200304", "invalid_grant");

    let id = emu.authorized("poll-app").await;
    let r = emu.ciba_token("other-app", &id).await;
    assert_oauth_error(&r, "BAD_REQUEST", "A200305", "invalid_grant");

    let (_, push) = emu.issued("push-app").await;
    let r = emu.ciba_token("push-app", &push).await;
    assert_oauth_error(&r, "BAD_REQUEST", "A200306", "unauthorized_client");
}

#[actix_web::test]
async fn missing_or_duplicated_auth_req_id_is_invalid_request() {
    let emu = Emu::start().await;
    let grant = "grant_type=urn%3Aopenid%3Aparams%3Agrant-type%3Aciba";
    let r = emu.token("poll-app", grant).await;
    assert_oauth_error(&r, "BAD_REQUEST", "A200301", "invalid_request");
    let r = emu
        .token("poll-app", &format!("{grant}&auth_req_id=a&auth_req_id=b"))
        .await;
    assert_oauth_error(&r, "BAD_REQUEST", "A200303", "invalid_request");
}

#[actix_web::test]
async fn bad_client_authentication_answers_invalid_client() {
    let emu = Emu::start().await;
    let id = emu.authorized("poll-app").await;
    let params = format!("grant_type=urn%3Aopenid%3Aparams%3Agrant-type%3Aciba&auth_req_id={id}");
    let body = json!({"parameters": params, "clientId": "poll-app", "clientSecret": "wrong"});
    let (_, r) = emu.call("auth/token", body).await;
    assert_oauth_error(&r, "INVALID_CLIENT", "A157305", "invalid_client");
}

#[actix_web::test]
async fn grant_type_outside_the_clients_grant_types_is_unauthorized_client() {
    let emu = Emu::start().await;
    let r = emu.ciba_token("cc-app", "whatever").await;
    assert_oauth_error(&r, "BAD_REQUEST", "A047302", "unauthorized_client");
    let r = emu.token("poll-app", "grant_type=client_credentials").await;
    assert_oauth_error(&r, "BAD_REQUEST", "A047302", "unauthorized_client");
    let r = emu
        .token("poll-app", "grant_type=password&username=a&password=b")
        .await;
    assert_oauth_error(&r, "BAD_REQUEST", "A047101", "unsupported_grant_type");
}

#[actix_web::test]
async fn concurrent_exchanges_of_one_auth_req_id_have_exactly_one_winner() {
    let emu = Emu::start().await;
    let id = emu.authorized("poll-app").await;
    let results: Vec<Value> =
        futures_util::future::join_all((0..4).map(|_| emu.ciba_token("poll-app", &id))).await;
    let winners = results.iter().filter(|r| r["action"] == "OK").count();
    assert_eq!(winners, 1, "{results:?}");
    for loser in results.iter().filter(|r| r["action"] != "OK") {
        let code = loser["resultCode"].as_str().unwrap();
        assert!(code == "A200310" || code == "A200304", "{loser}");
        assert_eq!(content(loser)["error"], "invalid_grant");
    }
}

#[actix_web::test]
async fn polling_faster_than_the_interval_is_not_throttled_as_authlete_has_no_such_answer() {
    let emu = Emu::start().await;
    let (_, id) = emu.issued("poll-app").await;
    for _ in 0..3 {
        assert_eq!(
            emu.ciba_token("poll-app", &id).await["resultCode"],
            "A200308"
        );
    }
}

#[actix_web::test]
async fn refresh_token_rotates_the_pair() {
    let emu = Emu::start().await;
    let id = emu.authorized("poll-app").await;
    let first = emu.ciba_token("poll-app", &id).await;
    let refresh = first["refreshToken"].as_str().unwrap();
    let r = emu
        .token(
            "poll-app",
            &format!("grant_type=refresh_token&refresh_token={refresh}"),
        )
        .await;
    assert_eq!(
        (r["action"].as_str(), r["grantType"].as_str()),
        (Some("OK"), Some("REFRESH_TOKEN"))
    );
    assert_ne!(r["accessToken"], first["accessToken"]);
    assert_eq!(r["subject"], "alice");
    assert!(r.get("idToken").is_none());
    assert_eq!(content(&r)["scope"], "openid profile");

    let reused = emu
        .token(
            "poll-app",
            &format!("grant_type=refresh_token&refresh_token={refresh}"),
        )
        .await;
    assert_oauth_error(&reused, "BAD_REQUEST", "A053305", "invalid_grant");
    let (_, info) = emu
        .call("auth/introspection", json!({"token": first["accessToken"]}))
        .await;
    assert_eq!(info["action"], "UNAUTHORIZED");
}

#[actix_web::test]
async fn client_credentials_issue_an_access_token_without_subject() {
    let emu = Emu::start().await;
    let r = emu
        .token("cc-app", "grant_type=client_credentials&scope=openid+email")
        .await;
    assert_eq!(
        (r["action"].as_str(), r["resultCode"].as_str()),
        (Some("OK"), Some("A052001"))
    );
    let body = content(&r);
    assert_eq!(body["scope"], "email");
    assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none());
    assert!(r.get("subject").is_none());
    assert_eq!(r["grantType"], "CLIENT_CREDENTIALS");
}
