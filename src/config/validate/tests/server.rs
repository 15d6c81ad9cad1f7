//! Validation of `[server]`, `[server.tls]`, `[admin]`, `[log]` and `[telemetry]`.

use super::{assert_problems, assert_valid};
use crate::config::fixtures::{problems, TempFile, EMBEDDED};
use crate::config::Settings;

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
            "server.trusted_proxies: entries [2], [3] must each be a CIDR",
            "server.client_cert_header",
            "server.cors_allowed_origins[1]",
            "server.cors_allowed_origins[2]",
            "server.cors_allowed_origins[3]",
        ],
    );
    let found = problems(&text);
    assert!(!found
        .iter()
        .any(|p| p.contains("[0]") || p.contains("[1], ")));
    assert_eq!(found.len(), 9, "{found:#?}");
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
    // The default realm is the public URL as parsed: backslashes become slashes and quotes
    // are escaped, so it always fits the quoted string of `WWW-Authenticate`.
    let settings = Settings::from_toml_str(&with("https://id.example.com/a\\\\b\\\"c"), Vec::new())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(settings.realm(), "https://id.example.com/a/b%22c");
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
            "console = true\nconsole_token = \"0123456789abcdefghijklmnopqrstuv\"",
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
fn a_console_token_needs_32_characters() {
    let with = |token: &str| {
        EMBEDDED.replace(
            "console = true",
            &format!("console = true\nconsole_token = \"{token}\""),
        )
    };
    for short in ["", "t0ken", &"x".repeat(31), &"é".repeat(31)] {
        assert_problems(
            &with(short),
            &["admin.console_token: must have at least 32 characters"],
        );
    }
    assert_valid(&with(&"x".repeat(32)));
    assert_valid(&with(&"é".repeat(32)));
}

#[test]
fn telemetry_keys_are_checked_and_an_empty_endpoint_means_no_export() {
    let text = format!(
        r#"{EMBEDDED}
[telemetry]
otlp_endpoint = "https://collector.example:4318"
service_name = ""
sample_ratio = 1.5
otlp_timeout_ms = 0
"#
    );
    assert_problems(
        &text,
        &[
            "telemetry.otlp_endpoint: must be an http:// URL",
            "telemetry.service_name",
            "telemetry.sample_ratio",
            "telemetry.otlp_timeout_ms",
        ],
    );
    assert_valid(&format!(
        "{EMBEDDED}\n[telemetry]\notlp_endpoint = \"\"\nsample_ratio = 0.25\n"
    ));
    assert_valid(&format!(
        "{EMBEDDED}\n[telemetry]\notlp_endpoint = \"http://jaeger:4318\"\n"
    ));
}
