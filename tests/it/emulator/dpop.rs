//! DPoP (RFC 9449) at the token, userinfo and introspection APIs: proofs signed with real keys,
//! DPoP-bound tokens, and a bound token presented without its key's proof.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use super::{assert_oauth_error, content, Emu, ISSUER};
use crate::support::{random_jti, ClientKey};

const CIBA: &str = "grant_type=urn%3Aopenid%3Aparams%3Agrant-type%3Aciba";

fn token_endpoint() -> String {
    format!("{ISSUER}/token")
}

/// `/auth/token` for poll-app with `params`, and `dpop` (plus `htm`) when given.
async fn token(emu: &Emu, params: &str, proof: Option<String>) -> Value {
    let mut body =
        json!({"parameters": params, "clientId": "poll-app", "clientSecret": "poll-app-secret"});
    if let Some(proof) = proof {
        body["dpop"] = proof.into();
        body["htm"] = "POST".into();
    }
    emu.call("auth/token", body).await.1
}

/// A DPoP-bound token pair of poll-app for `key`: (access token, refresh token).
async fn bound_tokens(emu: &Emu, key: &ClientKey) -> (String, String) {
    let id = emu.authorized("poll-app").await;
    let proof = key.dpop_proof("POST", &token_endpoint(), emu.now(), None);
    let r = token(emu, &format!("{CIBA}&auth_req_id={id}"), Some(proof)).await;
    assert_eq!(r["action"], "OK", "{r}");
    let tokens = content(&r);
    assert_eq!(tokens["token_type"], "DPoP");
    (
        tokens["access_token"].as_str().unwrap().to_owned(),
        tokens["refresh_token"].as_str().unwrap().to_owned(),
    )
}

async fn userinfo(emu: &Emu, access_token: &str, proof: Option<String>) -> Value {
    let mut body = json!({"token": access_token});
    if let Some(proof) = proof {
        body["dpop"] = proof.into();
        body["htm"] = "GET".into();
    }
    emu.call("auth/userinfo", body).await.1
}

#[actix_web::test]
async fn a_token_request_with_a_proof_gets_tokens_bound_to_its_key() {
    let emu = Emu::start().await;
    let key = ClientKey::p256();
    let (access, _) = bound_tokens(&emu, key).await;
    let (_, r) = emu
        .call(
            "auth/introspection/standard",
            json!({"parameters": format!("token={access}")}),
        )
        .await;
    let introspected = content(&r);
    assert_eq!(introspected["active"], true);
    assert_eq!(introspected["token_type"], "DPoP");
    assert_eq!(introspected["cnf"], json!({"jkt": key.jkt()}));
    // Without a proof, tokens stay Bearer and carry no confirmation.
    let id = emu.authorized("poll-app").await;
    let r = token(&emu, &format!("{CIBA}&auth_req_id={id}"), None).await;
    let tokens = content(&r);
    assert_eq!(tokens["token_type"], "Bearer");
    let (_, r) = emu
        .call(
            "auth/introspection/standard",
            json!({"parameters": format!("token={}", tokens["access_token"].as_str().unwrap())}),
        )
        .await;
    assert!(content(&r).get("cnf").is_none());
}

#[actix_web::test]
async fn proofs_that_do_not_fit_the_token_request_are_refused() {
    let emu = Emu::start().await;
    let key = ClientKey::p256();
    let now = emu.now();
    let htu = token_endpoint();
    let b64 = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let claims = json!({"jti": random_jti(), "htm": "POST", "htu": htu, "iat": now});
    let cases = [
        (key.dpop_proof("GET", &htu, now, None), "A254301", "'htm'"),
        (
            key.dpop_proof("POST", "https://other.example/token", now, None),
            "A254301",
            "'htu'",
        ),
        (
            key.dpop_proof("POST", &htu, now - 61, None),
            "A254301",
            "'iat'",
        ),
        (
            key.dpop_proof("POST", &htu, now + 61, None),
            "A254301",
            "'iat'",
        ),
        (
            key.sign_with("ES256", json!({"typ": "JWT", "jwk": key.jwk()}), &claims),
            "A254301",
            "'typ'",
        ),
        (
            ClientKey::ec("other").sign_with(
                "ES256",
                json!({"typ": "dpop+jwt", "jwk": key.jwk()}),
                &claims,
            ),
            "A254301",
            "signature",
        ),
        (
            format!(
                "{}.{}.c2ln",
                b64(json!({"typ": "dpop+jwt", "alg": "HS256", "jwk": key.jwk()})),
                b64(claims.clone())
            ),
            "A254302",
            "(HS256)",
        ),
        (
            key.sign_with("ES256", json!({"typ": "dpop+jwt"}), &claims),
            "A254303",
            "",
        ),
        (
            format!(
                "{}.{}.c2ln",
                b64(json!({"typ": "dpop+jwt", "jwk": key.jwk()})),
                b64(claims.clone())
            ),
            "A254304",
            "",
        ),
    ];
    for (proof, code, named) in cases {
        let id = emu.authorized("poll-app").await;
        let r = token(&emu, &format!("{CIBA}&auth_req_id={id}"), Some(proof)).await;
        assert_oauth_error(&r, "BAD_REQUEST", code, "invalid_dpop_proof");
        let message = r["resultMessage"].as_str().unwrap();
        assert!(message.contains(named), "{code}: {message}");
    }
    // The refused requests left their auth_req_id pending; a good proof still works, once.
    let id = emu.authorized("poll-app").await;
    let proof = key.dpop_proof("POST", &htu, now, None);
    let r = token(
        &emu,
        &format!("{CIBA}&auth_req_id={id}"),
        Some(proof.clone()),
    )
    .await;
    assert_eq!(r["action"], "OK", "{r}");
    let id = emu.authorized("poll-app").await;
    let r = token(&emu, &format!("{CIBA}&auth_req_id={id}"), Some(proof)).await;
    assert_oauth_error(&r, "BAD_REQUEST", "A254301", "invalid_dpop_proof");
    assert!(r["resultMessage"].as_str().unwrap().contains("used before"));
}

#[actix_web::test]
async fn a_bound_token_at_userinfo_needs_a_proof_of_its_key() {
    let emu = Emu::start().await;
    let key = ClientKey::p256();
    let (access, _) = bound_tokens(&emu, key).await;
    let userinfo_url = format!("{ISSUER}/userinfo");
    let r = userinfo(&emu, &access, None).await;
    assert_eq!(r["action"], "UNAUTHORIZED", "{r}");
    assert_eq!(r["resultCode"], "A089311");
    let challenge = r["responseContent"].as_str().unwrap();
    assert!(
        challenge.starts_with("DPoP error=\"invalid_token\""),
        "{challenge}"
    );
    let other = ClientKey::ec("other");
    let proof = other.dpop_proof("GET", &userinfo_url, emu.now(), Some(&access));
    let r = userinfo(&emu, &access, Some(proof)).await;
    assert_eq!(r["resultCode"], "A089312", "{r}");
    assert!(r["responseContent"]
        .as_str()
        .unwrap()
        .starts_with("DPoP error=\"invalid_dpop_proof\""));
    let unbound = key.dpop_proof("GET", &userinfo_url, emu.now(), None);
    let r = userinfo(&emu, &access, Some(unbound)).await;
    assert_eq!(r["resultCode"], "A089313", "{r}");
    assert!(r["resultMessage"].as_str().unwrap().contains("'ath'"));
    let proof = key.dpop_proof("GET", &userinfo_url, emu.now(), Some(&access));
    let r = userinfo(&emu, &access, Some(proof)).await;
    assert_eq!(r["action"], "OK", "{r}");
    assert_eq!(r["subject"], "alice");
    // A resource server's introspection names its own method and URL.
    let (_, r) = emu
        .call("auth/introspection", json!({"token": access}))
        .await;
    assert_eq!(r["action"], "UNAUTHORIZED", "{r}");
    assert_eq!(r["resultCode"], "A065308");
    let api = "https://rs.example/api";
    let proof = key.dpop_proof("POST", api, emu.now(), Some(&access));
    let body = json!({"token": access, "dpop": proof, "htm": "POST", "htu": api});
    let (_, r) = emu.call("auth/introspection", body).await;
    assert_eq!(r["action"], "OK", "{r}");
}

#[actix_web::test]
async fn a_bound_refresh_token_needs_a_proof_of_its_key() {
    let emu = Emu::start().await;
    let key = ClientKey::p256();
    let (_, refresh) = bound_tokens(&emu, key).await;
    let params = format!("grant_type=refresh_token&refresh_token={refresh}");
    let r = token(&emu, &params, None).await;
    assert_oauth_error(&r, "BAD_REQUEST", "A053311", "invalid_dpop_proof");
    let other = ClientKey::ec("other").dpop_proof("POST", &token_endpoint(), emu.now(), None);
    let r = token(&emu, &params, Some(other)).await;
    assert_oauth_error(&r, "BAD_REQUEST", "A053311", "invalid_dpop_proof");
    let proof = key.dpop_proof("POST", &token_endpoint(), emu.now(), None);
    let r = token(&emu, &params, Some(proof)).await;
    assert_eq!(r["action"], "OK", "{r}");
    assert_eq!(content(&r)["token_type"], "DPoP");
}
