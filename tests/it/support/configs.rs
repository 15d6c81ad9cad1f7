//! The settings the tests start gateways with: a wiremock Authlete, or the embedded emulator.

use authlete_gateway::config::Settings;

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
