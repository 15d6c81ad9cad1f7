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

mod answers;
mod ciba;
mod configs;
mod eventually;
mod faulty;
mod jose;
mod otlp;
mod outside;
mod process;
mod raw;
mod redis_cluster;
mod redis_server;
mod relay;
mod webhooks;

pub use answers::*;
pub use configs::*;
pub use eventually::{eventually, received_at_least};
pub use faulty::{Fault, FaultyServer};
pub use jose::{jwks_text, random_jti, ClientKey};
pub use otlp::{attribute, collector, spans};
pub use outside::installed_or_skipped;
pub use process::{embedded_config_head, GatewayProcess, Lines};
pub use raw::{raw_exchange, raw_request, RawReply};
pub use redis_cluster::RedisCluster;
pub use redis_server::{free_port, RedisServer, SharedRedis};
pub use relay::Relay;
pub use webhooks::{assert_signed, verify_webhook, webhook_verifier_installed};

pub const SERVICE_ID: &str = "1234";

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
        settings.authlete.base_url = Some(authlete.uri().parse().unwrap());
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

/// A notification or webhook receiver that answers every POST with `status`.
pub async fn receiver(status: u16) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(status))
        .mount(&server)
        .await;
    server
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

/// The value of one series in a Prometheus text exposition. The gateway exports every series
/// known in advance from the start, so an absent one is a misspelt name or label: it panics,
/// listing the series of that metric it did find.
pub fn sample(metrics: &str, name_and_labels: &str) -> f64 {
    find_sample(metrics, name_and_labels).unwrap_or_else(|| {
        let name = name_and_labels.split('{').next().unwrap_or(name_and_labels);
        let found: Vec<&str> = metrics
            .lines()
            .filter(|line| !line.starts_with('#') && line.starts_with(name))
            .collect();
        panic!(
            "no series {name_and_labels}; {name} has:\n{}",
            found.join("\n")
        )
    })
}

/// The value of a series that appears only with its first event (an HTTP status), 0 before.
pub fn sample_or_zero(metrics: &str, name_and_labels: &str) -> f64 {
    find_sample(metrics, name_and_labels).unwrap_or(0.0)
}

fn find_sample(metrics: &str, name_and_labels: &str) -> Option<f64> {
    metrics.lines().find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        (series == name_and_labels).then(|| value.parse().ok())?
    })
}
