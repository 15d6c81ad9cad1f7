//! Introspection, revocation and userinfo end to end, against the embedded emulator
//! (`authlete.backend = "embedded"`): tokens issued through the gateway or the emulator, then
//! used at the gateway's resource endpoints.

use std::sync::Arc;

use authlete_gateway::clock::ManualClock;
use authlete_gateway::config::{Backend, IntrospectionClient, Secret};
use authlete_gateway::startup::{Application, ShutdownHandle};
use serde_json::{json, Value};

use crate::support::*;

const RS: (&str, &str) = ("rs-1", "rs-1-secret");

/// A gateway with its embedded emulator, and what a test needs to reach the emulator.
struct Embedded {
    base: String,
    emulator_api: String,
    emulator_token: String,
    _shutdown: ShutdownHandle,
}

impl Embedded {
    async fn start() -> Embedded {
        let mut settings = settings();
        settings.authlete.backend = Backend::Embedded;
        settings.authlete.base_url = None;
        settings.authlete.service_id = None;
        settings.authlete.access_token = None;
        settings.emulator.clients = crate::emulator::clients();
        settings.introspection.clients = vec![IntrospectionClient {
            id: RS.0.into(),
            secret: Some(Secret::new(RS.1)),
            secret_sha256: None,
            rs_uri: None,
        }];
        let alice = &mut settings.users.static_users[0].claims;
        alice.insert("email".into(), json!("alice@example.com"));
        alice.insert("phone_number".into(), json!("+1 555 0100"));
        let app = Application::build(settings, Arc::new(ManualClock::new()))
            .await
            .unwrap();
        let emulator = app.emulator().unwrap();
        let embedded = Embedded {
            base: format!("http://{}", app.public_addr()),
            emulator_api: format!("{}/api/{}", emulator.base_url, emulator.service_id),
            emulator_token: emulator.access_token.clone(),
            _shutdown: app.shutdown_handle(),
        };
        actix_web::rt::spawn(app.run_until_stopped());
        embedded
    }

    async fn post(&self, route: &str, body: &str, headers: &[(&str, &str)]) -> Reply {
        let mut all = vec![("Content-Type", "application/x-www-form-urlencoded")];
        all.extend_from_slice(headers);
        send(&self.base, "POST", route, &all, Some(body)).await
    }

    /// A client_credentials access token of cc-app, through the gateway's `/token`.
    async fn client_token(&self) -> String {
        let auth = basic("cc-app", "cc-app-secret");
        let reply = self
            .post(
                "/token",
                "grant_type=client_credentials&scope=profile",
                &[("Authorization", &auth)],
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json()["access_token"].as_str().unwrap().to_owned()
    }

    async fn introspect(&self, token: &str) -> Reply {
        let auth = basic(RS.0, RS.1);
        let body = format!("token={token}");
        self.post("/introspection", &body, &[("Authorization", &auth)])
            .await
    }

    /// Calls the emulator's API directly (what a device and Authlete would do).
    async fn emulator(&self, api: &str, body: Value) -> Value {
        let mut response = client()
            .post(format!("{}/{api}", self.emulator_api))
            .bearer_auth(&self.emulator_token)
            .send_json(&body)
            .await
            .unwrap();
        response.json().await.unwrap()
    }

    /// A CIBA access token of poll-app for alice with `scope`, granted at the emulator.
    async fn ciba_token(&self, scope: &str) -> String {
        let credentials = json!({"clientId": "poll-app", "clientSecret": "poll-app-secret"});
        let mut request = credentials.clone();
        request["parameters"] = json!(format!("scope={scope}&login_hint=alice"));
        let identified = self.emulator("backchannel/authentication", request).await;
        let ticket = identified["ticket"].clone();
        let issued = self
            .emulator(
                "backchannel/authentication/issue",
                json!({"ticket": ticket}),
            )
            .await;
        let completed = json!({"ticket": ticket, "result": "AUTHORIZED", "subject": "alice"});
        self.emulator("backchannel/authentication/complete", completed)
            .await;
        let mut request = credentials;
        request["parameters"] = json!(format!(
            "grant_type=urn%3Aopenid%3Aparams%3Agrant-type%3Aciba&auth_req_id={}",
            issued["authReqId"].as_str().unwrap()
        ));
        let token = self.emulator("auth/token", request).await;
        token["accessToken"].as_str().unwrap().to_owned()
    }
}

#[actix_web::test]
async fn an_issued_token_is_active_and_inactive_after_revocation() {
    let gw = Embedded::start().await;
    let token = gw.client_token().await;
    let active = gw.introspect(&token).await;
    assert_eq!(active.status, 200, "{}", active.body);
    active.assert_no_store_json();
    let body = active.json();
    assert_eq!(body["active"], true);
    assert_eq!(body["client_id"], "cc-app");
    assert_eq!(body["scope"], "profile");

    let auth = basic("cc-app", "cc-app-secret");
    let revoked = gw
        .post(
            "/revocation",
            &format!("token={token}"),
            &[("Authorization", &auth)],
        )
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    assert!(revoked.body.is_empty());
    assert_eq!(revoked.header("content-type"), None);
    assert_eq!(gw.introspect(&token).await.json(), json!({"active": false}));
}

#[actix_web::test]
async fn revocation_with_a_wrong_secret_is_invalid_client_with_a_challenge() {
    let gw = Embedded::start().await;
    let token = gw.client_token().await;
    let auth = basic("cc-app", "wrong");
    let reply = gw
        .post(
            "/revocation",
            &format!("token={token}"),
            &[("Authorization", &auth)],
        )
        .await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.header("www-authenticate"),
        Some(r#"Basic realm="https://as.example.com""#)
    );
    assert_eq!(reply.json()["error"], "invalid_client");
    assert_eq!(gw.introspect(&token).await.json()["active"], true);
}

#[actix_web::test]
async fn userinfo_returns_the_directory_claims_of_the_granted_scopes() {
    let gw = Embedded::start().await;
    let token = gw.ciba_token("openid+profile+email").await;
    let bearer = format!("Bearer {token}");
    for method in ["GET", "POST"] {
        let reply = send(
            &gw.base,
            method,
            "/userinfo",
            &[("Authorization", &bearer)],
            None,
        )
        .await;
        assert_eq!(reply.status, 200, "{method}: {}", reply.body);
        reply.assert_no_store_json();
        // phone_number is in the directory but the phone scope was not granted.
        assert_eq!(
            reply.json(),
            json!({"sub": "alice", "name": "Alice", "email": "alice@example.com"})
        );
    }
    let in_body = gw
        .post("/userinfo", &format!("access_token={token}"), &[])
        .await;
    assert_eq!(in_body.status, 200, "{}", in_body.body);
    assert_eq!(in_body.json()["sub"], "alice");
}

#[actix_web::test]
async fn userinfo_refuses_a_token_sent_in_the_header_and_the_body() {
    let gw = Embedded::start().await;
    let token = gw.ciba_token("openid").await;
    let bearer = format!("Bearer {token}");
    let reply = gw
        .post(
            "/userinfo",
            &format!("access_token={token}"),
            &[("Authorization", &bearer)],
        )
        .await;
    assert_eq!(reply.status, 400);
    reply.assert_no_store_json();
    assert_eq!(reply.json()["error"], "invalid_request");
}

#[actix_web::test]
async fn userinfo_passes_on_authlete_challenges_for_unknown_tokens() {
    let gw = Embedded::start().await;
    let reply = send(
        &gw.base,
        "GET",
        "/userinfo",
        &[("Authorization", "Bearer not-a-token")],
        None,
    )
    .await;
    assert_eq!(reply.status, 401);
    assert!(reply.body.is_empty());
    let challenge = reply.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.starts_with("Bearer ") && challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
}

#[actix_web::test]
async fn a_dpop_bound_token_is_introspected_with_its_key_thumbprint() {
    let gw = Embedded::start().await;
    let key = ClientKey::p256();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let proof = key.dpop_proof(
        "POST",
        "https://as.example.com/token",
        i64::try_from(now).unwrap(),
        None,
    );
    let auth = basic("cc-app", "cc-app-secret");
    let reply = gw
        .post(
            "/token",
            "grant_type=client_credentials&scope=profile",
            &[("Authorization", &auth), ("DPoP", &proof)],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["token_type"], "DPoP");
    let token = reply.json()["access_token"].as_str().unwrap().to_owned();
    let body = gw.introspect(&token).await.json();
    assert_eq!(body["active"], true);
    assert_eq!(body["token_type"], "DPoP");
    assert_eq!(body["cnf"], json!({"jkt": key.jkt()}));
}
