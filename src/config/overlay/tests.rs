use toml::Value;

use super::apply;
use crate::config::fixtures::{env, REMOTE};
use crate::config::Settings;

/// The smallest configuration that validates: the embedded backend with the console channel.
const BASE: &str = r#"
[admin]
console = true

[authlete]
backend = "embedded"

[[introspection.clients]]
id = "rs1"
secret = "from-file"
"#;

fn load(pairs: &[(&str, &str)]) -> Settings {
    match Settings::from_toml_str(BASE, env(pairs)) {
        Ok(settings) => settings,
        Err(e) => panic!("configuration rejected:\n{e}"),
    }
}

fn load_err(pairs: &[(&str, &str)]) -> String {
    match Settings::from_toml_str(BASE, env(pairs)) {
        Ok(_) => panic!("configuration accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn nested_keys_create_missing_tables() {
    let mut value: Value = toml::from_str(BASE).unwrap();
    let (overrides, errors) = apply(
        &mut value,
        env(&[("GATEWAY_SERVER__TLS__CERT_FILE", "/etc/tls/cert.pem")]),
    );
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(overrides.len(), 1);
    assert_eq!(
        value["server"]["tls"]["cert_file"].as_str(),
        Some("/etc/tls/cert.pem")
    );
}

#[test]
fn numeric_segments_index_arrays_and_append_at_the_end() {
    let settings = load(&[
        ("GATEWAY_INTROSPECTION__CLIENTS__0__SECRET", "from-env"),
        ("GATEWAY_INTROSPECTION__CLIENTS__1__SECRET", "second"),
        ("GATEWAY_INTROSPECTION__CLIENTS__1__ID", "rs2"),
    ]);
    let clients = &settings.introspection.clients;
    assert_eq!(clients.len(), 2);
    assert_eq!(clients[0].id, "rs1");
    assert_eq!(clients[0].secret.as_ref().unwrap().expose(), "from-env");
    assert_eq!(clients[1].id, "rs2");
    assert_eq!(clients[1].secret.as_ref().unwrap().expose(), "second");
}

#[test]
fn indexes_are_applied_in_numeric_order() {
    let mut pairs = Vec::new();
    for i in (0..12).rev() {
        pairs.push((
            format!("GATEWAY_SERVER__TRUSTED_PROXIES__{i}"),
            format!("10.0.0.{i}"),
        ));
    }
    let settings = Settings::from_toml_str(BASE, pairs).unwrap();
    assert_eq!(settings.server.trusted_proxies.len(), 12);
    assert_eq!(
        settings.server.trusted_proxies[11].to_string(),
        "10.0.0.11/32"
    );
}

#[test]
fn an_index_past_the_end_is_an_error_naming_the_variable() {
    let message = load_err(&[("GATEWAY_INTROSPECTION__CLIENTS__2__ID", "rs3")]);
    assert!(
        message.contains("GATEWAY_INTROSPECTION__CLIENTS__2__ID"),
        "{message}"
    );
    assert!(message.contains("out of range"), "{message}");
    assert!(
        message.contains("introspection.clients has 1 element"),
        "{message}"
    );
    assert!(!message.contains("rs3"), "{message}");
}

#[test]
fn arrays_are_read_as_toml() {
    let settings = load(&[(
        "GATEWAY_SERVER__TRUSTED_PROXIES",
        r#"["10.0.0.0/8", "192.168.1.1"]"#,
    )]);
    assert_eq!(
        settings.server.trusted_proxies,
        vec![
            "10.0.0.0/8".parse::<ipnet::IpNet>().unwrap(),
            "192.168.1.1/32".parse().unwrap()
        ]
    );
}

#[test]
fn numbers_and_booleans_are_read_as_toml() {
    let settings = load(&[
        ("GATEWAY_SERVER__MAX_BODY_BYTES", "1024"),
        ("GATEWAY_CIBA__ENFORCE_INTERVAL", "false"),
        ("GATEWAY_DEVICE__TIMEOUT_RATIO", "0.5"),
        ("GATEWAY_AUTHLETE__API_VERSION", "2"),
    ]);
    assert_eq!(settings.server.max_body_bytes, 1024);
    assert!(!settings.ciba.enforce_interval);
    assert_eq!(settings.device.timeout_ratio, 0.5);
    assert_eq!(settings.authlete.api_version, 2);
}

#[test]
fn durations_are_read_in_the_unit_their_key_names() {
    let settings = load(&[
        ("GATEWAY_AUTHLETE__CONNECT_TIMEOUT_MS", "750"),
        ("GATEWAY_CACHE__JWKS_TTL_SECS", "90"),
    ]);
    assert_eq!(
        settings.authlete.connect_timeout,
        std::time::Duration::from_millis(750)
    );
    assert_eq!(settings.cache.jwks_ttl, std::time::Duration::from_secs(90));
    let message = load_err(&[("GATEWAY_NOTIFICATIONS__TIMEOUT_MS", "soon")]);
    assert_eq!(
        message,
        "notifications.timeout_ms: invalid type: string, expected a whole number of \
         milliseconds (set by GATEWAY_NOTIFICATIONS__TIMEOUT_MS)"
    );
}

#[test]
fn string_keys_keep_numeric_looking_values_verbatim() {
    let settings = load(&[
        ("GATEWAY_SERVER__REALM", "12345"),
        (
            "GATEWAY_ADMIN__CONSOLE_TOKEN",
            "0x1F1F1F1F1F1F1F1F1F1F1F1F1F1F1F1F",
        ),
        ("GATEWAY_INTROSPECTION__CLIENTS__0__ID", "007"),
        ("GATEWAY_INTROSPECTION__CLIENTS__0__SECRET", "+1_000"),
        ("GATEWAY_ADMIN__ALLOWED_HOSTS__0", "1234"),
    ]);
    assert_eq!(settings.server.realm.as_deref(), Some("12345"));
    assert_eq!(
        settings.admin.console_token.unwrap().expose(),
        "0x1F1F1F1F1F1F1F1F1F1F1F1F1F1F1F1F"
    );
    assert_eq!(settings.introspection.clients[0].id, "007");
    let secret = settings.introspection.clients[0].secret.clone().unwrap();
    assert_eq!(secret.expose(), "+1_000");
    assert_eq!(settings.admin.allowed_hosts, vec!["1234".to_owned()]);
    // Not a valid filter, but the string reached validation intact.
    let message = load_err(&[("GATEWAY_LOG__LEVEL", "[1, 2]")]);
    assert!(message.starts_with("log.level:"), "{message}");
}

#[test]
fn a_numeric_access_token_stays_a_string() {
    // The service id as a TOML integer, and no access token in the file.
    let remote = REMOTE.replace(
        "service_id = \"715948317\"\naccess_token = \"token-abc\"\n",
        "service_id = 715948317\n",
    );
    assert_ne!(remote, REMOTE);
    let settings =
        Settings::from_toml_str(&remote, env(&[("GATEWAY_AUTHLETE__ACCESS_TOKEN", "12345")]))
            .unwrap();
    assert_eq!(settings.authlete.access_token.unwrap().expose(), "12345");
    assert_eq!(settings.authlete.service_id.unwrap().expose(), "715948317");
}

#[test]
fn claims_take_the_toml_reading() {
    let with_user = format!(
        "{BASE}\n[[users.static]]\nsubject = \"alice\"\nlogin_hints = [\"alice@example.com\"]\n"
    );
    let settings = Settings::from_toml_str(
        &with_user,
        env(&[
            ("GATEWAY_USERS__STATIC__0__CLAIMS__EMAIL_VERIFIED", "true"),
            ("GATEWAY_USERS__STATIC__0__CLAIMS__NAME", "Alice"),
        ]),
    )
    .unwrap();
    let claims = &settings.users.static_users[0].claims;
    assert_eq!(claims["email_verified"], serde_json::Value::Bool(true));
    assert_eq!(claims["name"], serde_json::Value::from("Alice"));
}

#[test]
fn an_unknown_key_is_rejected_with_its_path_and_variable() {
    let message = load_err(&[("GATEWAY_SERVER__LISTEN_PORT", "8080")]);
    assert!(
        message.starts_with("server.listen_port: unknown field `listen_port`"),
        "{message}"
    );
    assert!(message.contains("GATEWAY_SERVER__LISTEN_PORT"), "{message}");
}

#[test]
fn a_type_error_names_the_key_and_variable_but_not_the_value() {
    let message = load_err(&[("GATEWAY_SERVER__MAX_BODY_BYTES", "hunter2")]);
    assert!(
        message.starts_with("server.max_body_bytes: invalid type"),
        "{message}"
    );
    assert!(
        message.contains("GATEWAY_SERVER__MAX_BODY_BYTES"),
        "{message}"
    );
    assert!(!message.contains("hunter2"), "{message}");
}

#[test]
fn a_value_cannot_be_indexed_like_a_table() {
    let message = load_err(&[("GATEWAY_ADMIN__CONSOLE__TOKEN", "x")]);
    assert!(
        message.contains("GATEWAY_ADMIN__CONSOLE__TOKEN"),
        "{message}"
    );
    assert!(message.contains("admin.console is a value"), "{message}");
}

#[test]
fn empty_segments_are_rejected() {
    let message = load_err(&[("GATEWAY_SERVER____LISTEN", "127.0.0.1:1")]);
    assert!(
        message.contains("GATEWAY_SERVER____LISTEN: empty path segment"),
        "{message}"
    );
}

#[test]
fn variables_without_prefix_or_separator_are_not_overrides() {
    let settings = load(&[
        ("GATEWAY_CONFIG", "/etc/gateway.toml"),
        ("GATEWAY_SERVER", "x"),
        ("OTHER_SERVER__LISTEN", "x"),
        ("gateway_server__listen", "x"),
    ]);
    assert_eq!(settings.server.listen.to_string(), "127.0.0.1:8080");
}

#[test]
fn validation_problems_name_the_variable_that_set_the_key() {
    let message = load_err(&[
        ("GATEWAY_SERVER__LISTEN", "nowhere"),
        ("GATEWAY_INTROSPECTION__CLIENTS__0__ID", ""),
    ]);
    let lines: Vec<&str> = message.lines().collect();
    assert!(
        lines.contains(&"server.listen: must be a socket address such as 127.0.0.1:8080 or [::1]:8080 (set by GATEWAY_SERVER__LISTEN)"),
        "{message}"
    );
    assert!(
        lines.contains(&"introspection.clients[0].id: must not be empty (set by GATEWAY_INTROSPECTION__CLIENTS__0__ID)"),
        "{message}"
    );
    assert!(!message.contains("nowhere"), "{message}");
}
