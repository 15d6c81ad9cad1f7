//! Tests of the embedded Authlete emulator, through real HTTP against `emulator::start` on
//! port 0 with a manual clock.

mod backchannel;
mod dpop;
mod fidelity;
mod lifecycle;
mod metadata;
mod resource;
mod signed;
mod token;
mod transport;

use std::sync::Arc;
use std::time::Duration;

use authlete_gateway::clock::ManualClock;
use authlete_gateway::config::{DeliveryMode, EmulatorClient, EmulatorSettings, Secret};
use authlete_gateway::emulator::{start, EmulatorOptions, RunningEmulator};
use serde_json::{json, Value};

use crate::support::{jwks_text, ClientKey};

pub const ISSUER: &str = "http://127.0.0.1:8080";

/// A running emulator, its clock and an HTTP client.
pub struct Emu {
    pub run: RunningEmulator,
    pub clock: Arc<ManualClock>,
    http: awc::Client,
}

fn client(id: &str, mode: DeliveryMode, method: &str, grants: &[&str]) -> EmulatorClient {
    EmulatorClient {
        client_id: id.into(),
        client_secret: (method != "none").then(|| Secret::new(format!("{id}-secret"))),
        client_name: Some(format!("{id} name")),
        delivery_mode: mode,
        notification_endpoint: (mode != DeliveryMode::Poll).then(|| "https://rp.example/cb".into()),
        user_code_required: id == "code-app",
        token_auth_method: method.into(),
        grant_types: grants.iter().map(|g| (*g).to_owned()).collect(),
        request_signing_alg: None,
        jwks: None,
        fapi_ciba: false,
        default_acrs: Vec::new(),
    }
}

/// A poll client that signs its backchannel requests with `alg` and registered `jwks`.
pub fn signing_client(id: &str, alg: &str, jwks: Option<String>) -> EmulatorClient {
    EmulatorClient {
        request_signing_alg: Some(alg.into()),
        jwks,
        ..client(
            id,
            DeliveryMode::Poll,
            "client_secret_basic",
            &["ciba", "refresh_token"],
        )
    }
}

/// The clients every test emulator has.
pub fn clients() -> Vec<EmulatorClient> {
    let std = ["ciba", "refresh_token"];
    vec![
        client("poll-app", DeliveryMode::Poll, "client_secret_basic", &std),
        client("other-app", DeliveryMode::Poll, "client_secret_basic", &std),
        client("ping-app", DeliveryMode::Ping, "client_secret_basic", &std),
        client("push-app", DeliveryMode::Push, "client_secret_basic", &std),
        client("post-app", DeliveryMode::Poll, "client_secret_post", &std),
        client("public-app", DeliveryMode::Poll, "none", &std),
        client("code-app", DeliveryMode::Poll, "client_secret_basic", &std),
        client(
            "cc-app",
            DeliveryMode::Poll,
            "client_secret_basic",
            &["client_credentials"],
        ),
        signing_client("rs-app", "RS256", Some(jwks_text(&[ClientKey::rsa()]))),
        signing_client("ps-app", "PS256", Some(jwks_text(&[ClientKey::rsa()]))),
        signing_client("es-app", "ES256", Some(jwks_text(&[ClientKey::p256()]))),
    ]
}

impl Emu {
    pub async fn start() -> Emu {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut EmulatorSettings)) -> Emu {
        Self::start_at(ISSUER, adjust).await
    }

    pub async fn start_at(issuer: &str, adjust: impl FnOnce(&mut EmulatorSettings)) -> Emu {
        let mut settings = EmulatorSettings {
            clients: clients(),
            ..EmulatorSettings::default()
        };
        adjust(&mut settings);
        let clock = Arc::new(ManualClock::new());
        let run = start(EmulatorOptions {
            settings,
            public_url: issuer.into(),
            listen: "127.0.0.1:0".parse().unwrap(),
            clock: clock.clone(),
        })
        .await
        .unwrap();
        Emu {
            run,
            clock,
            http: awc::Client::default(),
        }
    }

    /// The emulator's time, in seconds since the epoch.
    pub fn now(&self) -> i64 {
        use authlete_gateway::clock::Clock;
        i64::try_from(self.clock.unix_secs()).unwrap()
    }

    pub fn advance(&self, secs: u64) {
        self.clock.advance(Duration::from_secs(secs));
    }

    pub fn v3(&self, api: &str) -> String {
        format!("{}/api/{}/{api}", self.run.base_url, self.run.service_id)
    }

    /// POSTs `body` as JSON to the v3 API `api`.
    pub async fn call(&self, api: &str, body: Value) -> (u16, Value) {
        let request = self
            .http
            .post(self.v3(api))
            .bearer_auth(&self.run.access_token);
        read(request.send_json(&body).await.unwrap()).await
    }

    /// GETs the v3 API `api` (with its query).
    pub async fn get(&self, api: &str) -> (u16, Value) {
        let request = self
            .http
            .get(self.v3(api))
            .bearer_auth(&self.run.access_token);
        read(request.send().await.unwrap()).await
    }

    pub fn http(&self) -> &awc::Client {
        &self.http
    }

    /// `/backchannel/authentication` for `client` (Basic credentials) with `params`.
    pub async fn backchannel(&self, client: &str, params: &str) -> Value {
        let body = json!({"parameters": params, "clientId": client, "clientSecret": format!("{client}-secret")});
        self.call("backchannel/authentication", body).await.1
    }

    /// A fresh ticket for `client` (ping/push clients get a notification token).
    pub async fn ticket(&self, client: &str) -> String {
        let params =
            "scope=openid+profile&login_hint=alice&client_notification_token=nt-123&user_code=1234";
        let response = self.backchannel(client, params).await;
        assert_eq!(response["action"], "USER_IDENTIFICATION", "{response}");
        response["ticket"].as_str().unwrap().to_owned()
    }

    /// `(ticket, auth_req_id)` after `issue`.
    pub async fn issued(&self, client: &str) -> (String, String) {
        let ticket = self.ticket(client).await;
        let (_, issued) = self
            .call(
                "backchannel/authentication/issue",
                json!({"ticket": ticket}),
            )
            .await;
        assert_eq!(issued["action"], "OK", "{issued}");
        (ticket, issued["authReqId"].as_str().unwrap().to_owned())
    }

    pub async fn complete(&self, ticket: &str, extra: Value) -> Value {
        let mut body = json!({"ticket": ticket, "result": "AUTHORIZED", "subject": "alice"});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        self.call("backchannel/authentication/complete", body)
            .await
            .1
    }

    /// An `auth_req_id` of `client` that `complete` authorized for alice.
    pub async fn authorized(&self, client: &str) -> String {
        let (ticket, id) = self.issued(client).await;
        self.complete(&ticket, json!({})).await;
        id
    }

    /// `/auth/token` for `client` with form `params`.
    pub async fn token(&self, client: &str, params: &str) -> Value {
        let body = json!({"parameters": params, "clientId": client, "clientSecret": format!("{client}-secret")});
        self.call("auth/token", body).await.1
    }

    pub async fn ciba_token(&self, client: &str, auth_req_id: &str) -> Value {
        let params = format!(
            "grant_type=urn%3Aopenid%3Aparams%3Agrant-type%3Aciba&auth_req_id={auth_req_id}"
        );
        self.token(client, &params).await
    }
}

async fn read<S>(mut response: awc::ClientResponse<S>) -> (u16, Value)
where
    S: futures_util::Stream<Item = Result<bytes::Bytes, awc::error::PayloadError>> + Unpin,
{
    let status = response.status().as_u16();
    let body = response.body().await.unwrap();
    let value = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).unwrap()
    };
    (status, value)
}

/// `responseContent` parsed as JSON.
pub fn content(response: &Value) -> Value {
    serde_json::from_str(response["responseContent"].as_str().unwrap()).unwrap()
}

/// Asserts the envelope's action, result code and the OAuth `error` in its content.
pub fn assert_oauth_error(response: &Value, action: &str, code: &str, error: &str) {
    assert_eq!(response["action"], action, "{response}");
    assert_eq!(response["resultCode"], code, "{response}");
    let content = content(response);
    assert_eq!(content["error"], error, "{content}");
    assert!(content["error_description"]
        .as_str()
        .unwrap()
        .starts_with(&format!("[{code}] ")));
    assert_eq!(
        content["error_uri"],
        format!("https://docs.authlete.com/#{code}")
    );
}
