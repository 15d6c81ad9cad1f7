mod authlete;
mod device;
mod emulator;
mod server;
mod state;
mod users;

use crate::config::fixtures::{problems, EMBEDDED, REMOTE};

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
