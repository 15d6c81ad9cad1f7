//! The shipped `config.toml`, secret redaction, and syntax errors.
use std::path::Path;

use super::fixtures::{env, REMOTE};
use super::*;

#[test]
fn the_shipped_config_loads_with_an_empty_environment() {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config.toml"));
    let settings = match Settings::load(path, Vec::new()) {
        Ok(settings) => settings,
        Err(e) => panic!("config.toml is rejected:\n{e}"),
    };
    assert_eq!(settings.authlete.backend, Backend::Embedded);
    assert!(settings.admin.console);
    assert_eq!(settings.device.channel, DeviceChannel::Console);
    let clients: Vec<(&str, DeliveryMode)> = settings
        .emulator
        .clients
        .iter()
        .map(|c| (c.client_id.as_str(), c.delivery_mode))
        .collect();
    assert_eq!(
        clients,
        vec![
            ("demo-poll", DeliveryMode::Poll),
            ("demo-ping", DeliveryMode::Ping),
            ("demo-push", DeliveryMode::Push),
        ]
    );
    let users = &settings.users.static_users;
    assert_eq!(users[0].login_hints, vec!["alice@example.com".to_owned()]);
    assert_eq!(
        users[0].claims["email_verified"],
        serde_json::Value::Bool(true)
    );
    assert_eq!(users[1].subject, "bob");
    assert!(users[1].user_code_required);
    assert_eq!(users[1].user_code.as_ref().unwrap().expose(), "1234");
}

#[test]
fn debug_output_never_contains_secret_values() {
    let text = format!(
        "{REMOTE}\n[admin]\nconsole_token = \"console-SECRET-1-of-32-characters\"\n\
         [[users.static]]\nsubject = \"s\"\nuser_code = \"usercode-SECRET-2\"\n\
         [[introspection.clients]]\nid = \"rs\"\nsecret = \"introspection-SECRET-3\"\n\
         [[emulator.clients]]\nclient_id = \"c\"\nclient_secret = \"client-SECRET-4\"\n\
         delivery_mode = \"poll\"\n"
    );
    let settings = Settings::from_toml_str(
        &text,
        env(&[
            ("GATEWAY_USERS__HTTP__URL", "https://dir.example.com"),
            ("GATEWAY_USERS__HTTP__BEARER_TOKEN", "bearer-SECRET-5"),
        ]),
    )
    .unwrap();
    let debug = format!("{settings:?}");
    for secret in [
        "SECRET",
        "token-abc",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "whsec_",
    ] {
        assert!(!debug.contains(secret), "{secret} leaked in {debug}");
    }
    assert!(debug.contains("[redacted]"));
}

#[test]
fn a_syntax_error_names_the_line() {
    let error = Settings::from_toml_str("[server]\nlisten = \n", Vec::new()).unwrap_err();
    assert!(
        error.to_string().starts_with("config.toml line 2:"),
        "{error}"
    );
}

/// The keys a table accepts, read from serde's "unknown field" message.
fn accepted_keys(table_header: &str) -> Vec<String> {
    let text = format!("{table_header}\nzz_probe = 1\n");
    let error = Settings::from_toml_str(&text, Vec::new())
        .unwrap_err()
        .to_string();
    let expected = error.split("expected").nth(1).unwrap();
    expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_shipped_config_documents_every_key_and_its_variable() {
    let shipped = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/config.toml"));
    let tables = [
        ("", "", false),
        ("[server]", "server", false),
        ("[server.tls]", "server.tls", false),
        ("[admin]", "admin", false),
        ("[authlete]", "authlete", false),
        ("[cache]", "cache", false),
        ("[users]", "users", false),
        ("[[users.static]]", "users.static", true),
        ("[users.http]", "users.http", false),
        ("[ciba]", "ciba", false),
        ("[device]", "device", false),
        ("[device.webhook]", "device.webhook", false),
        ("[notifications]", "notifications", false),
        ("[introspection]", "introspection", false),
        ("[[introspection.clients]]", "introspection.clients", true),
        ("[emulator]", "emulator", false),
        ("[[emulator.clients]]", "emulator.clients", true),
        ("[log]", "log", false),
        ("[state]", "state", false),
        ("[state.redis]", "state.redis", false),
    ];
    let mut missing = Vec::new();
    for (header, path, is_array) in tables {
        let keys = accepted_keys(header);
        assert!(!keys.is_empty(), "no keys found for {header}");
        for key in keys {
            let prefix = path.replace('.', "__").to_uppercase();
            let variable = match (path.is_empty(), is_array) {
                (true, _) => format!("GATEWAY_{}", key.to_uppercase()),
                (false, false) => format!("GATEWAY_{prefix}__{}", key.to_uppercase()),
                (false, true) => format!("__{}", key.to_uppercase()),
            };
            if !shipped.contains(&variable) || !shipped.contains(&key) {
                missing.push(format!("{path}.{key} ({variable})"));
            }
        }
    }
    assert!(missing.is_empty(), "undocumented keys: {missing:#?}");
}

/// Every number and boolean the shipped `config.toml` shows commented out is its key's default:
/// uncommenting it changes nothing. A commented-out table is uncommented with its `url` in both
/// readings; `[server.tls]` is left out, since it needs files that exist.
#[test]
fn the_shipped_config_shows_the_defaults_of_its_numbers_and_booleans() {
    let shipped = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/config.toml"));
    let lines: Vec<&str> = shipped.lines().collect();
    let load = |lines: &[String]| match Settings::from_toml_str(&lines.join("\n"), Vec::new()) {
        Ok(settings) => format!("{settings:?}"),
        Err(e) => panic!("rejected:\n{e}"),
    };
    let mut header = 0;
    let mut checked = 0;
    for (i, line) in lines.iter().enumerate() {
        if line.trim_start_matches("# ").starts_with('[') {
            header = i;
        }
        let Some((key, value)) = line.strip_prefix("# ").and_then(|l| l.split_once(" = ")) else {
            continue;
        };
        let literal = value.parse::<f64>().is_ok() || value == "true" || value == "false";
        let is_key = key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        if !literal || !is_key || lines[header] == "# [server.tls]" {
            continue;
        }
        let mut base: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
        if lines[header].starts_with("# ") {
            for j in (header..i).filter(|&j| j == header || lines[j].starts_with("# url = ")) {
                base[j] = lines[j][2..].to_owned();
            }
        }
        let mut probe = base.clone();
        probe[i] = line[2..].to_owned();
        assert!(
            load(&probe) == load(&base),
            "config.toml line {}: `{}` is not the default",
            i + 1,
            &probe[i]
        );
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} commented-out defaults found");
}

#[test]
fn deserialization_errors_name_the_key_in_one_line() {
    let first_line = |text: &str| Settings::from_toml_str(text, Vec::new()).unwrap_err().0;
    assert_eq!(first_line(""), vec!["authlete: is required"]);
    assert_eq!(
        first_line("[authlete]\nbackend = \"embedded\"\n[server.tls]\ncert_file = \"c\"\n"),
        vec!["server.tls.key_file: is required"]
    );
    assert_eq!(
        first_line(
            "[admin]\nconsole = true\n[authlete]\nbackend = \"embedded\"\naccess_token = 1.5\n"
        ),
        vec!["authlete.access_token: invalid type, expected a string"]
    );
    assert_eq!(
        first_line("[server]\nlisten = 'a'\n[server]\n"),
        vec!["config.toml line 3: invalid table header: duplicate key `server` in document root"]
    );
}
