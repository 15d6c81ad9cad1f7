//! The command line: `--check-config` on the shipped and on broken configurations, and the
//! environment overlay as the real process sees it.

use std::process::Command;

fn gateway() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_authlete-gateway"));
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    // The test's own environment must not leak overrides into the process.
    for (name, _) in std::env::vars() {
        if name.starts_with("GATEWAY_") {
            command.env_remove(name);
        }
    }
    command
}

/// `--check-config` on a file holding `text`.
fn check_file(text: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).unwrap();
    gateway()
        .args(["--check-config", "--config"])
        .arg(&path)
        .output()
        .unwrap()
}

#[test]
fn the_shipped_configuration_checks_out() {
    let output = gateway().args(["--check-config"]).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "configuration OK"
    );
}

#[test]
fn every_problem_is_listed_and_the_exit_code_is_2() {
    let output = check_file(
        r#"
[server]
listen = "not an address"
max_body_bytes = 0
[authlete]
backend = "remote"
base_url = "https://authlete.example.com"
service_id = "123"
access_token = "super-secret-token-value"
"#,
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.lines().count() >= 3, "{stderr}");
    assert!(stderr.contains("server.listen"), "{stderr}");
    assert!(stderr.contains("server.max_body_bytes"), "{stderr}");
    assert!(stderr.contains("device.decision_keys"), "{stderr}");
    assert!(!stderr.contains("super-secret-token-value"));
}

#[test]
fn environment_overrides_reach_the_process_and_name_the_variable() {
    let output = gateway()
        .args(["--check-config"])
        .env("GATEWAY_SERVER__MAX_BODY_BYTES", "lots")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("GATEWAY_SERVER__MAX_BODY_BYTES"),
        "{stderr}"
    );
    assert!(!stderr.contains("lots"), "values are not echoed: {stderr}");
}

#[test]
fn the_config_path_comes_from_gateway_config_when_no_flag_is_given() {
    let output = gateway()
        .args(["--check-config"])
        .env("GATEWAY_CONFIG", "/nonexistent/config.toml")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/config.toml"));
}

#[test]
fn every_unknown_or_mistyped_key_is_reported_in_one_run() {
    let output = check_file("[server]\nbogus = 1\nmax_body_bytes = \"x\"\n[ciba]\nfoo = 2\n[authlete]\nbackend = \"embedded\"\n");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for key in ["server.bogus", "server.max_body_bytes", "ciba.foo"] {
        assert!(stderr.contains(key), "{key} missing from:\n{stderr}");
    }
}

#[test]
fn a_relative_introspection_rs_uri_is_refused() {
    let output = check_file(
        r#"
[admin]
console = true
[authlete]
backend = "embedded"
[[introspection.clients]]
id = "rs"
secret = "rs-secret"
rs_uri = "/api"
"#,
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("introspection.clients[0].rs_uri: must be an absolute URI"),
        "{stderr}"
    );
}

#[test]
fn a_console_token_shorter_than_32_characters_fails_the_check_without_being_echoed() {
    let check = |token: &str| {
        gateway()
            .args(["--check-config"])
            .env("GATEWAY_ADMIN__CONSOLE_TOKEN", token)
            .output()
            .unwrap()
    };
    let short = check("short-console-token-0123456789a");
    assert_eq!(short.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&short.stderr);
    assert!(
        stderr.contains("admin.console_token: must have at least 32 characters"),
        "{stderr}"
    );
    assert!(!stderr.contains("short-console-token"), "{stderr}");
    let long = check("long-enough-console-token-0123456789");
    assert_eq!(
        long.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&long.stderr)
    );
}

#[test]
fn a_syntax_error_names_the_file_and_a_bad_enum_value_is_echoed() {
    let broken = check_file("[server\nlisten = 1\n");
    assert_eq!(broken.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert!(stderr.contains("config.toml line 1: "), "{stderr}");
    assert!(stderr.starts_with('/'), "the path is named: {stderr}");

    let typo = check_file("[authlete]\nbackend = \"embeded\"\n");
    assert_eq!(typo.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&typo.stderr);
    assert!(
        stderr.contains(
            "authlete.backend: unknown variant `embeded`, expected `embedded` or `remote`"
        ),
        "{stderr}"
    );
}

#[test]
fn a_swapped_certificate_and_key_fail_the_check_not_the_start() {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    let config = |cert: &std::path::Path, key: &std::path::Path| {
        format!(
            "[admin]\nconsole = true\n[authlete]\nbackend = \"embedded\"\n\
             [server.tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\n",
            cert.display(),
            key.display()
        )
    };
    let right = check_file(&config(&cert_path, &key_path));
    assert_eq!(
        right.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&right.stderr)
    );
    let swapped = check_file(&config(&key_path, &cert_path));
    assert_eq!(swapped.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&swapped.stderr);
    assert!(stderr.starts_with("server.tls: "), "{stderr}");
    assert!(
        !stderr.contains("PRIVATE KEY-----"),
        "no file contents: {stderr}"
    );
    let other_key_path = dir.path().join("other-key.pem");
    let other_key = rcgen::KeyPair::generate().unwrap();
    std::fs::write(&other_key_path, other_key.serialize_pem()).unwrap();
    let mismatched = check_file(&config(&cert_path, &other_key_path));
    assert_eq!(
        mismatched.status.code(),
        Some(2),
        "a key of another certificate"
    );
}

/// deploy/config.remote.toml with its secret files (made up) in `dir` instead of
/// /run/secrets/authlete-gateway.
fn deploy_config_with_secrets_in(dir: &std::path::Path) -> String {
    for (name, value) in [
        ("authlete-access-token", "made-up-access-token"),
        ("directory-bearer-token", "made-up-directory-token"),
        (
            "decision-keys",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        ),
        (
            "webhook-secrets",
            "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0\n",
        ),
        ("introspection-secret", "made-up-introspection-secret"),
        // A host that does not resolve: the check must not contact Redis.
        (
            "redis-url",
            "redis://gateway:made-up-redis-pw@redis.invalid:6379",
        ),
        (
            "state-key-hash",
            "bWFkZS11cCBrZXkgaGFzaCBzZWNyZXQgb2YgMzIgYnl0ZXM=",
        ),
    ] {
        std::fs::write(dir.join(name), value).unwrap();
    }
    let shipped = include_str!("../../deploy/config.remote.toml");
    let secrets = format!("{}/", dir.display());
    shipped.replace("/run/secrets/authlete-gateway/", &secrets)
}

#[test]
fn the_deploy_configuration_checks_out_on_redis_without_contacting_it() {
    let dir = tempfile::tempdir().unwrap();
    let output = check_file(&deploy_config_with_secrets_in(dir.path()));
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(output.status.success(), "{stderr}");
    assert_eq!(stdout.trim(), "configuration OK");
    assert!(!format!("{stdout}{stderr}").contains("made-up-redis-pw"));
}

#[test]
fn the_kubernetes_config_map_holds_the_deploy_configuration() {
    let shipped = include_str!("../../deploy/config.remote.toml");
    let config_map = include_str!("../../deploy/kubernetes/configmap.yaml");
    let indented: String = shipped
        .lines()
        .map(|l| match l {
            "" => "\n".to_owned(),
            l => format!("    {l}\n"),
        })
        .collect();
    assert!(
        config_map.ends_with(&format!("  config.toml: |\n{indented}")),
        "deploy/kubernetes/configmap.yaml differs from deploy/config.remote.toml"
    );
}
