//! Starts a gateway on port 0 against a wiremock Authlete, and reads what Authlete received.

use std::sync::Arc;

use actix_web::http::StatusCode;
use authlete_gateway::clock::ManualClock;
use authlete_gateway::config::Settings;
use authlete_gateway::startup::{Application, ShutdownHandle};
use awc::http::header::HeaderMap;
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

pub const SERVICE_ID: &str = "1234";

const BASE_CONFIG: &str = r#"
[server]
listen = "127.0.0.1:0"
public_url = "https://as.example.com"
workers = 1

[admin]
listen = "127.0.0.1:0"
console = true

[authlete]
backend = "remote"
base_url = "http://127.0.0.1:1"
service_id = "1234"
access_token = "service-access-token"
connect_timeout_ms = 500
request_timeout_ms = 1500
token_timeout_ms = 1500

[[users.static]]
subject = "alice"
login_hints = ["alice@example.com"]
claims = { name = "Alice" }

[[users.static]]
subject = "bob"
login_hints = ["bob@example.com"]
user_code = "4321"
user_code_required = true

[device]
decision_keys = ["AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="]
"#;

/// A running gateway, its wiremock Authlete, and its manual clock.
pub struct TestGateway {
    pub base: String,
    pub admin: String,
    pub authlete: MockServer,
    pub clock: Arc<ManualClock>,
    shutdown: ShutdownHandle,
}

/// What the client got back.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// Asserts the JSON no-store headers of SPEC §3.
    pub fn assert_no_store_json(&self) {
        assert_eq!(self.header("content-type"), Some("application/json"));
        assert_eq!(self.header("cache-control"), Some("no-store"));
        assert_eq!(self.header("pragma"), Some("no-cache"));
    }
}

const EMBEDDED_CONFIG: &str = r#"
[server]
listen = "127.0.0.1:0"
public_url = "https://as.example.com"
workers = 1

[admin]
listen = "127.0.0.1:0"
console = true

[authlete]
backend = "embedded"

[[users.static]]
subject = "alice"
login_hints = ["alice@example.com"]
claims = { name = "Alice Example", email = "alice@example.com", email_verified = true }

[device]
decision_keys = ["AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="]

[notifications]
allowed_networks = ["127.0.0.0/8"]
allow_insecure_http = true
max_backoff_ms = 50

[emulator]
polling_interval_secs = 5
auth_req_id_lifetime_secs = 600

[[emulator.clients]]
client_id = "poll-client"
client_secret = "poll-secret"
client_name = "Poll Client"
delivery_mode = "poll"
grant_types = ["ciba", "refresh_token", "client_credentials"]
"#;

/// Settings for a gateway in front of its embedded emulator, with a poll client.
pub fn embedded_settings() -> Settings {
    Settings::from_toml_str(EMBEDDED_CONFIG, Vec::new()).unwrap_or_else(|e| panic!("{e}"))
}

pub fn settings() -> Settings {
    Settings::from_toml_str(BASE_CONFIG, Vec::new()).unwrap_or_else(|e| panic!("{e}"))
}

impl TestGateway {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts with the base settings changed by `adjust`; Authlete is a fresh wiremock.
    pub async fn start_with(adjust: impl FnOnce(&mut Settings)) -> Self {
        Self::start_on(MockServer::start().await, adjust).await
    }

    /// Starts against `authlete`, whose mocks may already be mounted (the gateway fetches
    /// discovery at start).
    pub async fn start_on(authlete: MockServer, adjust: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = settings();
        settings.authlete.base_url = Some(authlete.uri());
        adjust(&mut settings);
        Self::launch(settings, authlete).await
    }

    /// Starts in front of the embedded emulator (`authlete` is then an idle wiremock).
    pub async fn start_embedded(adjust: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = embedded_settings();
        adjust(&mut settings);
        Self::launch(settings, MockServer::start().await).await
    }

    async fn launch(settings: Settings, authlete: MockServer) -> Self {
        let clock = Arc::new(ManualClock::new());
        let app = Application::build(settings, clock.clone())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let base = format!("http://{}", app.public_addr());
        let admin = format!("http://{}", app.admin_addr());
        let shutdown = app.shutdown_handle();
        actix_web::rt::spawn(app.run_until_stopped());
        Self {
            base,
            admin,
            authlete,
            clock,
            shutdown,
        }
    }

    pub async fn stop(&self) {
        self.shutdown.shutdown().await;
    }

    /// POSTs a form body with extra headers.
    pub async fn post_form(&self, route: &str, body: &str, headers: &[(&str, &str)]) -> Reply {
        let mut request = client()
            .post(format!("{}{route}", self.base))
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"));
        for (name, value) in headers {
            request = request.append_header((*name, *value));
        }
        read(request.send_body(body.to_owned()).await).await
    }

    pub async fn get(&self, url: &str) -> Reply {
        read(client().get(url).send().await).await
    }

    /// Any request to the public listener, with extra headers and an optional body.
    pub async fn send(
        &self,
        method: &str,
        route: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Reply {
        send(&self.base, method, route, headers, body).await
    }

    pub async fn metrics(&self) -> String {
        self.get(&format!("{}/metrics", self.admin)).await.body
    }

    /// The JSON bodies Authlete received at `api` (the path below `/api/{service_id}/`).
    pub async fn received(&self, api: &str) -> Vec<Value> {
        self.received_requests(api)
            .await
            .iter()
            .map(|r| serde_json::from_slice(&r.body).unwrap_or(Value::Null))
            .collect()
    }

    pub async fn received_requests(&self, api: &str) -> Vec<Request> {
        let wanted = api_path(api);
        self.authlete
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.url.path() == wanted)
            .collect()
    }

    /// Authlete answers `api` with `body` (HTTP 200).
    pub async fn answer(&self, api: &str, body: Value) {
        answer(
            &self.authlete,
            api,
            ResponseTemplate::new(200).set_body_json(body),
        )
        .await;
    }
}

pub fn api_path(api: &str) -> String {
    format!("/api/{SERVICE_ID}/{api}")
}

pub async fn answer(server: &MockServer, api: &str, template: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path(api_path(api)))
        .respond_with(template)
        .mount(server)
        .await;
}

/// Any request to `base` + `route`.
pub async fn send(
    base: &str,
    method: &str,
    route: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Reply {
    let method = method
        .parse()
        .unwrap_or_else(|e| panic!("method {method}: {e}"));
    let mut request = client().request(method, format!("{base}{route}"));
    for (name, value) in headers {
        request = request.append_header((*name, *value));
    }
    match body {
        Some(body) => read(request.send_body(body.to_owned()).await).await,
        None => read(request.send().await).await,
    }
}

pub fn client() -> awc::Client {
    awc::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .finish()
}

async fn read(
    response: Result<
        awc::ClientResponse<
            impl futures_util::Stream<Item = Result<bytes::Bytes, awc::error::PayloadError>> + Unpin,
        >,
        awc::error::SendRequestError,
    >,
) -> Reply {
    let mut response = response.unwrap_or_else(|e| panic!("request failed: {e}"));
    let body = response
        .body()
        .limit(1 << 20)
        .await
        .unwrap_or_else(|e| panic!("body: {e}"));
    Reply {
        status: response.status(),
        headers: response.headers().clone(),
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// Basic credentials header value.
pub fn basic(id: &str, secret: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

/// The value of one sample in a Prometheus text exposition, 0 when absent.
pub fn sample(metrics: &str, name_and_labels: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            (series == name_and_labels).then(|| value.parse().ok())?
        })
        .unwrap_or(0.0)
}

/// An Authlete `USER_IDENTIFICATION` answer for a login hint.
pub fn user_identification(hint: &str) -> Value {
    serde_json::json!({
        "resultCode": "A179001",
        "resultMessage": "[A179001] The backchannel authentication request was processed successfully.",
        "action": "USER_IDENTIFICATION",
        "clientId": 26862190133482u64,
        "clientIdAliasUsed": false,
        "clientName": "Demo",
        "deliveryMode": "POLL",
        "hintType": "LOGIN_HINT",
        "hint": hint,
        "requestedExpiry": 0,
        "scopes": [{"defaultEntry": false, "name": "openid"}],
        "ticket": "ticket-1",
        "userCodeRequired": false
    })
}

/// An Authlete issue `OK` answer.
pub fn issued(auth_req_id: &str, interval: i64) -> Value {
    let content =
        serde_json::json!({"auth_req_id": auth_req_id, "interval": interval, "expires_in": 600});
    serde_json::json!({
        "resultCode": "A183001",
        "resultMessage": "[A183001] An auth_req_id was issued successfully.",
        "action": "OK",
        "authReqId": auth_req_id,
        "expiresIn": 600,
        "interval": interval,
        "responseContent": content.to_string()
    })
}

/// An Authlete `/fail` answer for `reason`.
pub fn failed(action: &str, error: &str) -> Value {
    serde_json::json!({
        "resultCode": "A185001",
        "resultMessage": "[A185001] Successfully generated an error response for the backchannel authentication request.",
        "action": action,
        "responseContent": serde_json::json!({"error": error}).to_string()
    })
}

impl TestGateway {
    /// POSTs a JSON body to a full URL with extra headers.
    pub async fn post_json(&self, url: &str, body: &str, headers: &[(&str, &str)]) -> Reply {
        let mut request = client()
            .post(url)
            .insert_header(("Content-Type", "application/json"));
        for (name, value) in headers {
            request = request.append_header((*name, *value));
        }
        read(request.send_body(body.to_owned()).await).await
    }

    /// The console's JSON feed of pending requests.
    pub async fn pending(&self) -> Vec<Value> {
        let reply = self.get(&format!("{}/console/requests", self.admin)).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json().as_array().cloned().unwrap_or_default()
    }

    /// Starts a CIBA request for `login_hint` as `client`; returns the acknowledgement.
    pub async fn start_ciba(&self, client: (&str, &str), extra: &str) -> Value {
        let body = format!("scope=openid%20email&login_hint=alice%40example.com{extra}");
        let reply = self
            .post_form(
                "/backchannel/authentication",
                &body,
                &[("Authorization", &basic(client.0, client.1))],
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json()
    }

    /// Polls the token endpoint once for `auth_req_id` as `client`.
    pub async fn poll(&self, client: (&str, &str), auth_req_id: &str) -> Reply {
        let body = format!(
            "grant_type=urn%3Aopenid%3Aparams%3Agrant-type%3Aciba&auth_req_id={auth_req_id}"
        );
        self.post_form(
            "/token",
            &body,
            &[("Authorization", &basic(client.0, client.1))],
        )
        .await
    }

    /// Applies `decision` with `token` at `/device/decisions`.
    pub async fn decide(&self, token: &str, decision: &str) -> Reply {
        self.post_json(
            &format!("{}/device/decisions", self.base),
            decision,
            &[("Authorization", &format!("Bearer {token}"))],
        )
        .await
    }
}
