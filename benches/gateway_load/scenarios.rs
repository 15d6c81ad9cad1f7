//! The gateway under test and the requests the benchmark sends.

use awc::http::header::{self, HeaderName, HeaderValue};
use base64::Engine;
use bytes::Bytes;

use std::sync::Arc;
use std::time::Duration;

use authlete_gateway::clock::SystemClock;
use authlete_gateway::config::Settings;
use authlete_gateway::startup::{Application, ShutdownHandle};

use super::load::Call;
use super::{fetch, sample};

const CLIENT_ID: &str = "bench-client";
const CLIENT_SECRET: &str = "bench-client-secret";
/// Users the backchannel requests are spread over, like real traffic (the pending guard keeps a
/// list per user).
pub const USERS: usize = 64;

/// The gateway under test: embedded emulator, one poll client allowed `client_credentials`,
/// `USERS` users, access log off (`warn`), a short drain at the end.
fn config() -> String {
    let mut text = String::from(
        r#"
[server]
listen = "127.0.0.1:0"
shutdown_timeout_secs = 2

[admin]
listen = "127.0.0.1:0"
console = true

[authlete]
backend = "embedded"

[log]
level = "warn"

[[emulator.clients]]
client_id = "bench-client"
client_secret = "bench-client-secret"
delivery_mode = "poll"
grant_types = ["ciba", "refresh_token", "client_credentials"]
"#,
    );
    for i in 0..USERS {
        text.push_str(&format!(
            "\n[[users.static]]\nsubject = \"user{i}\"\nlogin_hints = [\"user{i}@example.com\"]\n"
        ));
    }
    text
}

/// The settings of the gateway under test. Every backchannel request stays undecided, so the
/// per-user pending cap is lifted to everything the run sends.
pub fn settings(workers: usize, backchannel_requests: usize) -> Result<Settings, String> {
    parsed(&config(), workers, backchannel_requests)
}

/// Where the gateway of the state comparison keeps its state (SPEC §12).
pub enum Backend<'a> {
    Memory,
    /// A Redis server, this run's own key prefix, a random `key_hash_secret`.
    Redis {
        url: &'a str,
        key_prefix: &'a str,
    },
}

/// The settings of one gateway of the state comparison: those of `settings`, `[state]` as given,
/// and a `ciba.poll_leeway_ms` as long as any interval, so that the polling control checks and
/// records every CIBA poll but never answers `slow_down` itself: each poll reaches Authlete.
pub fn state_settings(
    workers: usize,
    backchannel_requests: usize,
    backend: Backend<'_>,
) -> Result<Settings, String> {
    let mut text = config();
    if let Backend::Redis { url, key_prefix } = backend {
        let secret: [u8; 32] = rand::random();
        text.push_str(&format!(
            "\n[state]\nbackend = \"redis\"\n[state.redis]\nurl = {}\nkey_prefix = {}\n\
             key_hash_secret = \"{}\"\n",
            toml::Value::from(url),
            toml::Value::from(key_prefix),
            hex::encode(secret),
        ));
    }
    let mut settings = parsed(&text, workers, backchannel_requests)?;
    let ciba = &mut settings.ciba;
    ciba.poll_leeway = settings
        .emulator
        .polling_interval
        .max(ciba.default_interval);
    Ok(settings)
}

fn parsed(text: &str, workers: usize, backchannel_requests: usize) -> Result<Settings, String> {
    let mut settings = Settings::from_toml_str(text, Vec::new()).map_err(|e| e.to_string())?;
    settings.server.workers = workers;
    settings.ciba.max_pending_per_user = backchannel_requests.max(1);
    Ok(settings)
}

/// A gateway started for the run, serving in the background.
pub struct Gateway {
    pub url: String,
    pub admin: String,
    pub shutdown: ShutdownHandle,
}

impl Gateway {
    pub async fn start(settings: Settings) -> Result<Self, String> {
        let app = Application::build(settings, Arc::new(SystemClock)).await?;
        let gateway = Self {
            url: format!("http://{}", app.public_addr()),
            admin: format!("http://{}", app.admin_addr()),
            shutdown: app.shutdown_handle(),
        };
        actix_web::rt::spawn(app.run_until_stopped());
        Ok(gateway)
    }

    /// Waits (at most 5 s) until the gateway's state backend answers: start-up does not wait
    /// for Redis.
    pub async fn await_state_backend(&self, client: &awc::Client) -> Result<(), String> {
        let url = format!("{}/metrics", self.admin);
        for _ in 0..50 {
            if sample(&fetch(client, &url).await?, "gateway_state_backend_up") == 1.0 {
                return Ok(());
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        Err("the redis state backend did not come up within 5 s".into())
    }
}

/// The token call the gateway makes for `grant_type=client_credentials`, sent by us.
pub fn direct_token(base_url: &str, service_id: u64, access_token: &str) -> Result<Call, String> {
    let body = serde_json::json!({
        "parameters": "grant_type=client_credentials",
        "clientId": CLIENT_ID,
        "clientSecret": CLIENT_SECRET,
    });
    Ok(Call {
        url: format!("{base_url}/api/{service_id}/auth/token"),
        headers: vec![
            header_pair(header::AUTHORIZATION, &format!("Bearer {access_token}"))?,
            header_pair(header::CONTENT_TYPE, "application/json")?,
        ],
        bodies: vec![Bytes::from(body.to_string())],
    })
}

/// `POST /token` with `grant_type=client_credentials` through the gateway.
pub fn gateway_token(gateway: &str) -> Result<Call, String> {
    gateway_form(
        gateway,
        "/token",
        vec!["grant_type=client_credentials".into()],
    )
}

/// `POST /backchannel/authentication` through the gateway, cycling over the users.
pub fn gateway_backchannel(gateway: &str) -> Result<Call, String> {
    let bodies = (0..USERS)
        .map(|i| format!("scope=openid&login_hint=user{i}%40example.com"))
        .collect();
    gateway_form(gateway, "/backchannel/authentication", bodies)
}

/// CIBA token polls through the gateway, cycling over `auth_req_ids` of the poll client.
pub fn gateway_poll(gateway: &str, auth_req_ids: &[String]) -> Result<Call, String> {
    let forms = auth_req_ids
        .iter()
        .map(|id| {
            form_urlencoded::Serializer::new(String::new())
                .append_pair("grant_type", "urn:openid:params:grant-type:ciba")
                .append_pair("auth_req_id", id)
                .finish()
        })
        .collect();
    gateway_form(gateway, "/token", forms)
}

/// The `Authorization` header value of the benchmark's client (Basic).
pub fn basic_authorization() -> String {
    let credentials =
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
    format!("Basic {credentials}")
}

/// A form POST to the gateway with the client's Basic credentials.
fn gateway_form(gateway: &str, route: &str, forms: Vec<String>) -> Result<Call, String> {
    Ok(Call {
        url: format!("{gateway}{route}"),
        headers: vec![
            header_pair(header::AUTHORIZATION, &basic_authorization())?,
            header_pair(header::CONTENT_TYPE, "application/x-www-form-urlencoded")?,
        ],
        bodies: forms.into_iter().map(Bytes::from).collect(),
    })
}

fn header_pair(name: HeaderName, value: &str) -> Result<(HeaderName, HeaderValue), String> {
    let value = HeaderValue::from_str(value).map_err(|e| format!("{name}: {e}"))?;
    Ok((name, value))
}
