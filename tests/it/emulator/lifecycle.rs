//! The ticket lifecycle: `issue`, `fail` and `complete`, and what `complete` yields per mode.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{content, Emu};

async fn issue(emu: &Emu, ticket: &str) -> Value {
    emu.call(
        "backchannel/authentication/issue",
        json!({"ticket": ticket}),
    )
    .await
    .1
}

#[actix_web::test]
async fn issue_returns_an_auth_req_id_once() {
    let emu = Emu::start().await;
    let ticket = emu.ticket("poll-app").await;
    let r = issue(&emu, &ticket).await;
    assert_eq!(r["resultCode"], "A183001");
    assert_eq!(r["action"], "OK");
    let id = r["authReqId"].as_str().unwrap();
    assert!(id.len() >= 27, "at least 160 bits");
    assert_eq!(
        (r["expiresIn"].as_u64(), r["interval"].as_u64()),
        (Some(600), Some(5))
    );
    assert_eq!(
        content(&r),
        json!({"auth_req_id": id, "interval": 5, "expires_in": 600})
    );

    let again = issue(&emu, &ticket).await;
    assert_eq!(
        (again["action"].as_str(), again["resultCode"].as_str()),
        (Some("INVALID_TICKET"), Some("A181205"))
    );
}

#[actix_web::test]
async fn issue_rejects_unknown_expired_and_completed_tickets() {
    let emu = Emu::start().await;
    let r = issue(&emu, "no-such-ticket").await;
    assert_eq!(
        (r["action"].as_str(), r["resultCode"].as_str()),
        (Some("INVALID_TICKET"), Some("A181201"))
    );
    let r = emu
        .call("backchannel/authentication/issue", json!({}))
        .await
        .1;
    assert_eq!(r["resultCode"], "A182201");

    let ticket = emu.ticket("poll-app").await;
    emu.advance(601);
    assert_eq!(issue(&emu, &ticket).await["resultCode"], "A181203");

    let (ticket, _) = emu.issued("poll-app").await;
    emu.complete(&ticket, json!({})).await;
    assert_eq!(issue(&emu, &ticket).await["resultCode"], "A181204");
}

#[actix_web::test]
async fn fail_maps_reasons_and_deletes_the_ticket() {
    let emu = Emu::start().await;
    let cases = [
        (json!("ACCESS_DENIED"), "FORBIDDEN", "access_denied"),
        (json!("UNKNOWN_USER_ID"), "BAD_REQUEST", "unknown_user_id"),
        (
            json!("INVALID_USER_CODE"),
            "BAD_REQUEST",
            "invalid_user_code",
        ),
        (
            json!("SERVER_ERROR"),
            "INTERNAL_SERVER_ERROR",
            "server_error",
        ),
        (Value::Null, "INTERNAL_SERVER_ERROR", "server_error"),
    ];
    for (reason, action, error) in cases {
        let ticket = emu.ticket("poll-app").await;
        let (_, r) = emu
            .call(
                "backchannel/authentication/fail",
                json!({"ticket": ticket, "reason": reason}),
            )
            .await;
        assert_eq!(r["resultCode"], "A185001");
        assert_eq!(r["action"], action);
        assert_eq!(content(&r), json!({"error": error}));
        assert_eq!(issue(&emu, &ticket).await["resultCode"], "A181201");
        let done = emu.complete(&ticket, json!({})).await;
        assert_eq!(
            (done["action"].as_str(), done["resultCode"].as_str()),
            (Some("SERVER_ERROR"), Some("A196201"))
        );
    }
}

#[actix_web::test]
async fn fail_includes_only_the_description_and_uri_it_was_given() {
    let emu = Emu::start().await;
    let ticket = emu.ticket("poll-app").await;
    let body = json!({"ticket": ticket, "reason": "UNKNOWN_USER_ID", "errorDescription": "no such user", "errorUri": "https://x.example/e"});
    let (_, r) = emu.call("backchannel/authentication/fail", body).await;
    assert_eq!(
        content(&r),
        json!({"error": "unknown_user_id", "error_description": "no such user", "error_uri": "https://x.example/e"})
    );
}

#[actix_web::test]
async fn complete_needs_issue_first_and_is_one_shot() {
    let emu = Emu::start().await;
    let ticket = emu.ticket("poll-app").await;
    let r = emu.complete(&ticket, json!({})).await;
    assert_eq!(
        (r["action"].as_str(), r["resultCode"].as_str()),
        (Some("SERVER_ERROR"), Some("A196204"))
    );

    issue(&emu, &ticket).await;
    let r = emu.complete(&ticket, json!({"subject": ""})).await;
    assert_eq!(r["resultCode"], "A188201");
    assert_eq!(
        emu.complete(&ticket, json!({})).await["resultCode"],
        "A198001"
    );
    let r = emu.complete(&ticket, json!({})).await;
    assert_eq!(
        (r["action"].as_str(), r["resultCode"].as_str()),
        (Some("SERVER_ERROR"), Some("A196203"))
    );
    assert_eq!(
        emu.complete("nope", json!({})).await["resultCode"],
        "A196201"
    );

    let (ticket, _) = emu.issued("poll-app").await;
    emu.advance(601);
    assert_eq!(
        emu.complete(&ticket, json!({})).await["resultCode"],
        "A196202"
    );
}

#[actix_web::test]
async fn poll_complete_answers_no_action_and_echoes_the_request() {
    let emu = Emu::start().await;
    let (ticket, id) = emu.issued("poll-app").await;
    let r = emu.complete(&ticket, json!({})).await;
    assert_eq!(r["action"], "NO_ACTION");
    assert_eq!(
        r["resultMessage"],
        "[A198001] Successfully updated the database so that the token endpoint can generate tokens (mode = poll, result = AUTHORIZED)."
    );
    assert_eq!(r["authReqId"], id.as_str());
    assert_eq!(r["deliveryMode"], "POLL");
    assert_eq!(r["clientName"], "poll-app name");
    assert!(r["clientId"].is_u64());
    assert_eq!(
        (
            r["accessTokenDuration"].as_u64(),
            r["idTokenDuration"].as_u64()
        ),
        (Some(0), Some(0))
    );
    assert!(r.get("responseContent").is_none());
}

#[actix_web::test]
async fn ping_complete_notifies_only_the_auth_req_id_whatever_the_result() {
    let emu = Emu::start().await;
    for result in ["AUTHORIZED", "ACCESS_DENIED"] {
        let (ticket, id) = emu.issued("ping-app").await;
        let r = emu.complete(&ticket, json!({"result": result})).await;
        assert_eq!(r["action"], "NOTIFICATION");
        assert_eq!(content(&r), json!({"auth_req_id": id}));
        assert_eq!(r["clientNotificationEndpoint"], "https://rp.example/cb");
        assert_eq!(r["clientNotificationToken"], "nt-123");
        assert_eq!(r["deliveryMode"], "PING");
    }
}

fn half_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

fn jwt_claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[actix_web::test]
async fn push_complete_mints_tokens_into_the_notification() {
    let emu = Emu::start().await;
    let (ticket, id) = emu.issued("push-app").await;
    let extra = json!({"accessToken": "chosen-at", "accessTokenDuration": 120, "scopes": ["openid", "email"]});
    let r = emu.complete(&ticket, extra).await;
    assert_eq!(
        (r["action"].as_str(), r["resultCode"].as_str()),
        (Some("NOTIFICATION"), Some("A198003"))
    );
    let body = content(&r);
    assert_eq!(body["auth_req_id"], id.as_str());
    assert_eq!(body["access_token"], "chosen-at");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 120);
    assert_eq!(body["scope"], "openid email");
    let refresh = body["refresh_token"].as_str().unwrap();
    let claims = jwt_claims(body["id_token"].as_str().unwrap());
    assert_eq!(
        claims["urn:openid:params:jwt:claim:auth_req_id"],
        id.as_str()
    );
    assert_eq!(claims["at_hash"], half_hash("chosen-at"));
    assert_eq!(
        claims["urn:openid:params:jwt:claim:rt_hash"],
        half_hash(refresh)
    );
    assert!(claims.get("rt_hash").is_none(), "{claims}");
    assert_eq!(r["accessToken"], "chosen-at");
    assert_eq!(r["accessTokenDuration"], 120);
    assert_eq!(r["clientNotificationToken"], "nt-123");
    assert_eq!(r["authReqId"], id.as_str());

    // The push-mode token works at the userinfo API.
    let (_, info) = emu
        .call("auth/userinfo", json!({"token": "chosen-at"}))
        .await;
    assert_eq!(info["action"], "OK");
}

#[actix_web::test]
async fn push_failure_notifies_an_error_with_the_auth_req_id() {
    let emu = Emu::start().await;
    let (ticket, id) = emu.issued("push-app").await;
    let r = emu
        .complete(
            &ticket,
            json!({"result": "ACCESS_DENIED", "errorDescription": "user said no"}),
        )
        .await;
    assert_eq!(
        (r["action"].as_str(), r["resultCode"].as_str()),
        (Some("NOTIFICATION"), Some("A198004"))
    );
    assert_eq!(
        content(&r),
        json!({"error": "access_denied", "error_description": "user said no", "auth_req_id": id})
    );

    let emu = Emu::start_with(|s| {
        s.transaction_failed_error =
            authlete_gateway::config::TransactionFailedError::TransactionFailed
    })
    .await;
    let (ticket, id) = emu.issued("push-app").await;
    let r = emu
        .complete(&ticket, json!({"result": "TRANSACTION_FAILED"}))
        .await;
    assert_eq!(
        content(&r),
        json!({"error": "transaction_failed", "auth_req_id": id})
    );
}
