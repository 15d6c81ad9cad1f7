//! The gateway under test and the requests the benchmark sends.

use awc::http::header::{self, HeaderName, HeaderValue};
use base64::Engine;
use bytes::Bytes;

use super::load::Call;

const CLIENT_ID: &str = "bench-client";
const CLIENT_SECRET: &str = "bench-client-secret";
/// Users the backchannel requests are spread over, like real traffic (the pending guard keeps a
/// list per user).
const USERS: usize = 64;

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
pub fn settings(
    workers: usize,
    backchannel_requests: usize,
) -> Result<authlete_gateway::config::Settings, String> {
    let mut settings = authlete_gateway::config::Settings::from_toml_str(&config(), Vec::new())
        .map_err(|e| e.to_string())?;
    settings.server.workers = workers;
    settings.ciba.max_pending_per_user = backchannel_requests.max(1);
    Ok(settings)
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

/// A form POST to the gateway with the client's Basic credentials.
fn gateway_form(gateway: &str, route: &str, forms: Vec<String>) -> Result<Call, String> {
    let credentials =
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
    Ok(Call {
        url: format!("{gateway}{route}"),
        headers: vec![
            header_pair(header::AUTHORIZATION, &format!("Basic {credentials}"))?,
            header_pair(header::CONTENT_TYPE, "application/x-www-form-urlencoded")?,
        ],
        bodies: forms.into_iter().map(Bytes::from).collect(),
    })
}

fn header_pair(name: HeaderName, value: &str) -> Result<(HeaderName, HeaderValue), String> {
    let value = HeaderValue::from_str(value).map_err(|e| format!("{name}: {e}"))?;
    Ok((name, value))
}
