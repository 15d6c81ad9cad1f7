#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::config::fixtures::{problems, TempFile, EMBEDDED, REMOTE};

/// Asserts that `text` is rejected with, among others, a problem starting with each of
/// `expected` (a key, or a key and the start of its message).
fn assert_problems(text: &str, expected: &[&str]) {
    let found = problems(text);
    for prefix in expected {
        assert!(
            found.iter().any(|p| p.starts_with(prefix)),
            "no problem starting with {prefix:?} in {found:#?}"
        );
    }
}

fn assert_valid(text: &str) {
    let found = problems(text);
    assert!(found.is_empty(), "unexpected problems: {found:#?}");
}

#[test]
fn the_base_configurations_are_valid() {
    assert_valid(EMBEDDED);
    assert_valid(REMOTE);
}

#[test]
fn server_addresses_urls_and_realm_are_checked() {
    let text = format!(
        r#"{EMBEDDED}
[server]
listen = "localhost"
public_url = "https://id.example.com/ciba?x=1"
realm = "say \"hi\""
max_body_bytes = 0
trusted_proxies = ["10.0.0.0/8", "192.168.0.1", "10.0.0.0/33", "proxy.local"]
client_cert_header = "X-Client-Cert"
cors_allowed_origins = ["https://app.example.com", "https://app.example.com/", "*", "https://a.example:8443/x"]
"#
    );
    assert_problems(
        &text,
        &[
            "server.listen: must be a socket address",
            "server.public_url: must not have a query",
            "server.realm: must not contain",
            "server.max_body_bytes: must be at least 1",
            "server.trusted_proxies[2]",
            "server.trusted_proxies[3]",
            "server.client_cert_header",
            "server.cors_allowed_origins[1]",
            "server.cors_allowed_origins[2]",
            "server.cors_allowed_origins[3]",
        ],
    );
    let found = problems(&text);
    assert!(!found
        .iter()
        .any(|p| p.starts_with("server.trusted_proxies[0]")
            || p.starts_with("server.trusted_proxies[1]")
            || p.starts_with("server.cors_allowed_origins[0]")));
    assert_eq!(found.len(), 10, "{found:#?}");
}

#[test]
fn public_url_may_have_a_path_but_must_be_http_without_fragment() {
    let with = |url: &str| format!("{EMBEDDED}\n[server]\npublic_url = \"{url}\"\n");
    assert_valid(&with("https://id.example.com/ciba"));
    assert_problems(
        &with("ftp://id.example.com"),
        &["server.public_url: must be an http"],
    );
    assert_problems(
        &with("https://id.example.com/#top"),
        &["server.public_url: must not have a fragment"],
    );
    assert_problems(&with("/ciba"), &["server.public_url: must be an absolute"]);
    // The default realm is the public URL, so its quoting rule applies there too.
    assert_problems(
        &with("https://id.example.com/a\\\\b"),
        &["server.realm (defaulting"],
    );
}

#[test]
fn client_cert_header_is_matched_case_insensitively() {
    assert_valid(&format!(
        "{EMBEDDED}\n[server]\nclient_cert_header = \"x-ssl-cert\"\n"
    ));
    assert_valid(&format!(
        "{EMBEDDED}\n[server]\nclient_cert_header = \"CLIENT-CERT\"\n"
    ));
}

#[test]
fn tls_files_must_exist() {
    let cert = TempFile::new("cert");
    let text = format!(
        "{EMBEDDED}\n[server.tls]\ncert_file = \"{}\"\nkey_file = \"/nonexistent/key.pem\"\n\
         client_ca_file = \"/nonexistent/ca.pem\"\n",
        cert.path()
    );
    let found = problems(&text);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_problems(
        &text,
        &[
            "server.tls.key_file: cannot open /nonexistent/key.pem",
            "server.tls.client_ca_file: cannot open /nonexistent/ca.pem",
        ],
    );
}

#[test]
fn an_exposed_console_needs_a_token_and_listeners_must_not_collide() {
    let text = r#"
[server]
listen = "0.0.0.0:9464"
[admin]
listen = "10.1.2.3:9464"
console = true
allowed_hosts = ["gateway.internal", "[::1]", "bad host", "host:9464", ""]
[authlete]
backend = "embedded"
[emulator]
allow_non_loopback = true
"#;
    assert_problems(
        text,
        &[
            "admin.console_token: is required",
            "admin.listen: must not use the same address",
            "admin.allowed_hosts[2]",
            "admin.allowed_hosts[3]",
            "admin.allowed_hosts[4]",
        ],
    );
    assert_eq!(problems(text).len(), 5, "{:#?}", problems(text));
    let fixed = text
        .replace("0.0.0.0:9464", "0.0.0.0:8080")
        .replace(
            "console = true",
            "console = true\nconsole_token = \"t0ken\"",
        )
        .replace(", \"bad host\", \"host:9464\", \"\"", "");
    assert_valid(&fixed);
}

#[test]
fn log_level_must_be_an_env_logger_filter() {
    let with = |level: &str| format!("{EMBEDDED}\n[log]\nlevel = \"{level}\"\n");
    for good in [
        "off",
        "TRACE",
        "info,authlete_gateway::config=debug",
        "warn/timeout",
    ] {
        assert_valid(&with(good));
    }
    for bad in ["", "inof", "actix_web=loud", "info,[x]=debug", "=info"] {
        assert_problems(&with(bad), &["log.level: must be an env_logger filter"]);
    }
}

#[test]
fn the_embedded_backend_sets_its_own_credentials_and_stays_on_loopback() {
    let text = r#"
[server]
listen = "0.0.0.0:8080"
[admin]
console = true
[authlete]
backend = "embedded"
base_url = "https://jp.authlete.com"
service_id = 1
access_token = "a"
api_key = "k"
api_secret = "s"
"#;
    assert_problems(
        text,
        &[
            "authlete.base_url: must be absent",
            "authlete.service_id: must be absent",
            "authlete.access_token: must be absent",
            "authlete.api_key: must be absent",
            "authlete.api_secret: must be absent",
            "server.listen: must be a loopback address",
        ],
    );
    let listen_only = format!("{EMBEDDED}\n[server]\nlisten = \"0.0.0.0:8080\"\n");
    assert_problems(&listen_only, &["server.listen: must be a loopback"]);
    assert_valid(&format!(
        "{listen_only}[emulator]\nallow_non_loopback = true\n"
    ));
}

#[test]
fn the_remote_backend_needs_a_url_and_the_credentials_of_its_api_version() {
    let no_url = REMOTE.replace("base_url = \"https://jp.authlete.com\"\n", "");
    assert_problems(&no_url, &["authlete.base_url: is required"]);
    let bad_url = REMOTE.replace("https://jp.authlete.com", "jp.authlete.com");
    assert_problems(&bad_url, &["authlete.base_url: must be an absolute"]);
    let v3 = REMOTE
        .replace("\"715948317\"", "\"svc-1\"")
        .replace("access_token = \"token-abc\"", "access_token = \"\"");
    assert_problems(
        &v3,
        &[
            "authlete.service_id: is required",
            "authlete.access_token: is required",
        ],
    );
    let v2 = REMOTE.replace("[authlete]", "[authlete]\napi_version = 2");
    assert_problems(
        &v2,
        &[
            "authlete.api_key: is required",
            "authlete.api_secret: is required",
        ],
    );
    let v2_ok = REMOTE.replace(
        "[authlete]",
        "[authlete]\napi_version = 2\napi_key = \"k\"\napi_secret = \"s\"",
    );
    assert_valid(&v2_ok);
    let v4 = REMOTE.replace("[authlete]", "[authlete]\napi_version = 4");
    assert_problems(&v4, &["authlete.api_version: must be 3 or 2"]);
}

#[test]
fn authlete_timeouts_and_limits_must_be_positive() {
    let text = REMOTE.replace(
        "[authlete]",
        "[authlete]\nconnect_timeout_ms = 0\nrequest_timeout_ms = 0\ntoken_timeout_ms = 0\n\
         complete_timeout_ms = 0\nretry_after_secs = 0\nmax_connections = 0",
    );
    assert_problems(
        &text,
        &[
            "authlete.connect_timeout_ms",
            "authlete.request_timeout_ms",
            "authlete.token_timeout_ms",
            "authlete.complete_timeout_ms",
            "authlete.retry_after_secs: must be at least 1",
            "authlete.max_connections",
        ],
    );
    let cache = format!(
        "{EMBEDDED}\n[cache]\nmetadata_ttl_secs = 0\njwks_ttl_secs = 999999999\npoll_max_entries = 0\n"
    );
    assert_problems(
        &cache,
        &[
            "cache.metadata_ttl_secs",
            "cache.jwks_ttl_secs: must be at most",
            "cache.poll_max_entries",
        ],
    );
}

#[test]
fn static_users_are_unique_and_their_codes_well_formed() {
    let text = format!(
        r#"{EMBEDDED}
[[users.static]]
subject = "alice"
login_hints = ["alice@example.com", ""]
user_code = "1"
user_code_sha256 = "03ac674216f3e15c761ee1a5e255f067953623c8b388b4459e13f978d7c846f4"
claims = {{ sub = "mallory", name = "Alice" }}

[[users.static]]
subject = "alice"
login_hints = ["alice@example.com"]
user_code_sha256 = "03AC674216F3E15C761EE1A5E255F067953623C8B388B4459E13F978D7C846F4"

[[users.static]]
subject = " "
user_code_required = true
"#
    );
    assert_problems(
        &text,
        &[
            "users.static[0].login_hints[1]: must not be empty",
            "users.static[0]: set only one of user_code and user_code_sha256",
            "users.static[0].claims.sub: is a registered",
            "users.static[1].subject: duplicates users.static[0].subject",
            "users.static[1].login_hints[0]: is also a login hint of users.static[0]",
            "users.static[1].user_code_sha256: must be a SHA-256",
            "users.static[2].subject: must not be empty",
            "users.static[2].user_code_required: needs user_code",
        ],
    );
    assert_eq!(problems(&text).len(), 8, "{:#?}", problems(&text));
}

#[test]
fn the_http_directory_needs_an_https_url() {
    let missing = format!("{EMBEDDED}\n[users]\nsource = \"http\"\n");
    assert_problems(&missing, &["users.http: is required"]);
    let http = format!(
        "{EMBEDDED}\n[users]\nsource = \"http\"\n[users.http]\nurl = \"http://dir.local/users\"\ntimeout_ms = 0\n"
    );
    assert_problems(
        &http,
        &["users.http.url: must be https", "users.http.timeout_ms"],
    );
    let allowed = http.replace("timeout_ms = 0", "allow_insecure_http = true");
    assert_valid(&allowed);
}

#[test]
fn ciba_pattern_compiles_and_counts_are_positive() {
    let text = format!(
        "{EMBEDDED}\n[ciba]\nbinding_message_pattern = \"^[a-z\"\ndefault_interval_secs = 0\n\
         max_pending_per_user = 0\nuser_code_max_failures = 0\nuser_code_failure_window_secs = 0\n\
         max_request_lifetime_secs = 0\n"
    );
    assert_problems(
        &text,
        &[
            "ciba.binding_message_pattern: is not a valid regular expression",
            "ciba.default_interval_secs",
            "ciba.max_pending_per_user",
            "ciba.user_code_max_failures",
            "ciba.user_code_failure_window_secs",
            "ciba.max_request_lifetime_secs",
        ],
    );
}

#[test]
fn the_default_binding_message_pattern_compiles() {
    let pattern = regex::Regex::new(crate::config::DEFAULT_BINDING_MESSAGE_PATTERN).unwrap();
    assert!(pattern.is_match("Pay 42 EUR #7"));
    assert!(!pattern.is_match("<script>"));
}

#[test]
fn the_console_channel_needs_the_console() {
    let text = "[authlete]\nbackend = \"embedded\"\n";
    assert_problems(
        text,
        &["device.channel: \"console\" requires admin.console = true"],
    );
}

#[test]
fn the_webhook_channel_needs_an_https_url_and_standard_webhooks_secrets() {
    let missing = REMOTE.replace("[device.webhook]", "[x]");
    let missing = &missing[..missing.find("[x]").unwrap()];
    assert_problems(missing, &["device.webhook: is required"]);
    let bad = REMOTE
        .replace(
            "https://device.example.com/hook",
            "http://device.example.com/hook",
        )
        .replace("whsec_c2VjcmV0LWtleQ==", "c2VjcmV0\", \"whsec_!!")
        .replace("[device.webhook]", "[device.webhook]\ntimeout_ms = 0");
    assert_problems(
        &bad,
        &[
            "device.webhook.url: must be https",
            "device.webhook.timeout_ms",
            "device.webhook.secrets[0]: must be a Standard Webhooks secret",
            "device.webhook.secrets[1]",
        ],
    );
    let none = REMOTE.replace("secrets = [\"whsec_c2VjcmV0LWtleQ==\"]", "secrets = []");
    assert_problems(&none, &["device.webhook.secrets: at least one secret"]);
    let unpadded = REMOTE.replace("whsec_c2VjcmV0LWtleQ==", "whsec_c2VjcmV0LWtleQ");
    assert_valid(&unpadded);
}

#[test]
fn decision_keys_are_32_byte_base64_and_required_for_remote() {
    let short = REMOTE.replace(
        "decision_keys = [\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"]",
        "decision_keys = [\"c2hvcnQ=\", \"not base64!\", \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"]",
    );
    assert_problems(
        &short,
        &["device.decision_keys[0]", "device.decision_keys[1]"],
    );
    assert_eq!(problems(&short).len(), 2, "{:#?}", problems(&short));
    assert!(!problems(&short).join("\n").contains("c2hvcnQ"));
    let none = REMOTE.replace(
        "decision_keys = [\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"]",
        "",
    );
    assert_problems(
        &none,
        &["device.decision_keys: at least one key is required"],
    );
    // The embedded backend generates a key when none is configured.
    assert_valid(EMBEDDED);
}

#[test]
fn timeout_ratio_lies_in_zero_to_one() {
    let with = |ratio: &str| format!("{EMBEDDED}\n[device]\ntimeout_ratio = {ratio}\n");
    assert_valid(&with("1.0"));
    for bad in ["0.0", "1.5", "-0.2", "nan"] {
        assert_problems(&with(bad), &["device.timeout_ratio"]);
    }
}

#[test]
fn notification_bounds_networks_and_ca_file_are_checked() {
    let text = format!(
        "{EMBEDDED}\n[notifications]\ntimeout_ms = 0\nmax_backoff_ms = 0\nqueue_capacity = 0\n\
         max_in_flight = 0\nmax_in_flight_per_host = 0\nallowed_networks = [\"127.0.0.0/8\", \"::1/128\", \"localhost\"]\n\
         ca_file = \"/nonexistent/ca.pem\"\n"
    );
    assert_problems(
        &text,
        &[
            "notifications.timeout_ms",
            "notifications.max_backoff_ms",
            "notifications.queue_capacity",
            "notifications.max_in_flight: must be at least 1",
            "notifications.max_in_flight_per_host",
            "notifications.allowed_networks[2]",
            "notifications.ca_file: cannot open",
        ],
    );
    assert_eq!(problems(&text).len(), 7, "{:#?}", problems(&text));
}

#[test]
fn introspection_clients_have_an_id_and_exactly_one_secret() {
    let text = format!(
        r#"{EMBEDDED}
[[introspection.clients]]
id = ""
secret = "s"
[[introspection.clients]]
id = "rs"
[[introspection.clients]]
id = "rs"
secret = "s"
secret_sha256 = "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"
[[introspection.clients]]
id = "rs2"
secret_sha256 = "2BB80D537B1DA3E38BD30361AA855686BDE0EACD7162FEF6A25FE97BF527A25B"
"#
    );
    assert_problems(
        &text,
        &[
            "introspection.clients[0].id: must not be empty",
            "introspection.clients[1]: needs secret or secret_sha256",
            "introspection.clients[2].id: is listed twice",
            "introspection.clients[2]: set only one of secret and secret_sha256",
            "introspection.clients[3].secret_sha256: must be a SHA-256",
        ],
    );
}

#[test]
fn emulator_settings_and_clients_are_checked() {
    let text = format!(
        r#"{EMBEDDED}
[emulator]
listen = "8081"
polling_interval_secs = 0
auth_req_id_lifetime_secs = 0
access_token_lifetime_secs = 0
refresh_token_lifetime_secs = 0
id_token_lifetime_secs = 0
signing_key_file = "/nonexistent/key.pem"

[[emulator.clients]]
client_id = "c1"
client_secret = "s"
delivery_mode = "ping"

[[emulator.clients]]
client_id = "c1"
delivery_mode = "push"
notification_endpoint = "http://127.0.0.1:9464/console/notifications"
token_auth_method = "private_key_jwt"
grant_types = ["ciba", "password"]

[[emulator.clients]]
client_id = ""
delivery_mode = "poll"
token_auth_method = "client_secret_post"
grant_types = []
"#
    );
    assert_problems(
        &text,
        &[
            "emulator.listen",
            "emulator.polling_interval_secs",
            "emulator.auth_req_id_lifetime_secs",
            "emulator.access_token_lifetime_secs",
            "emulator.refresh_token_lifetime_secs",
            "emulator.id_token_lifetime_secs",
            "emulator.signing_key_file: cannot open",
            "emulator.clients[0].notification_endpoint: is required",
            "emulator.clients[1].client_id: is listed twice",
            "emulator.clients[1].notification_endpoint: is http",
            "emulator.clients[1].token_auth_method",
            "emulator.clients[1].grant_types[1]",
            "emulator.clients[2].client_id: must not be empty",
            "emulator.clients[2].client_secret: is required",
            "emulator.clients[2].grant_types: must list",
        ],
    );
    assert_eq!(problems(&text).len(), 15, "{:#?}", problems(&text));
}

#[test]
fn every_problem_is_reported_at_once_one_per_line() {
    let text = r#"
[server]
listen = "nowhere"
max_body_bytes = 0
[authlete]
backend = "remote"
[ciba]
binding_message_pattern = "("
[device]
timeout_ratio = 2.0
[log]
level = "chatty=very"
"#;
    let error = crate::config::Settings::from_toml_str(text, Vec::new()).unwrap_err();
    let message = error.to_string();
    let lines: Vec<&str> = message.lines().collect();
    for key in [
        "server.listen:",
        "server.max_body_bytes:",
        "authlete.base_url:",
        "authlete.service_id:",
        "authlete.access_token:",
        "ciba.binding_message_pattern:",
        "device.channel:",
        "device.decision_keys:",
        "device.timeout_ratio:",
        "log.level:",
    ] {
        assert!(
            lines.iter().any(|l| l.starts_with(key)),
            "{key} missing from {lines:#?}"
        );
    }
    assert_eq!(lines.len(), 10, "{lines:#?}");
}
