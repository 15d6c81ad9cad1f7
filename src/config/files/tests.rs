use toml::Value;

use super::resolve;
use crate::config::fixtures::{env, TempFile, EMBEDDED, REMOTE};
use crate::config::Settings;

const KEY_A: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
const KEY_B: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE";

fn resolved(text: &str) -> (Value, Vec<String>) {
    let mut value: Value = toml::from_str(text).unwrap();
    let errors = resolve(&mut value);
    (value, errors)
}

#[test]
fn a_secret_file_is_read_and_trimmed() {
    let file = TempFile::new("  console-secret-of-at-least-32-chars\n\n");
    let text = format!(
        "[admin]\nconsole = true\nconsole_token_file = \"{}\"\n[authlete]\nbackend = \"embedded\"\n",
        file.path()
    );
    let settings = Settings::from_toml_str(&text, Vec::new()).unwrap();
    assert_eq!(
        settings.admin.console_token.unwrap().expose(),
        "console-secret-of-at-least-32-chars"
    );
}

#[test]
fn list_secrets_take_one_entry_per_non_empty_line() {
    let keys = TempFile::new(&format!("{KEY_A}\n\n  {KEY_B}  \n"));
    let text = REMOTE.replace(
        &format!("decision_keys = [\"{KEY_A}\"]"),
        &format!("decision_keys_file = \"{}\"", keys.path()),
    );
    assert_ne!(text, REMOTE);
    let settings = Settings::from_toml_str(&text, Vec::new()).unwrap();
    let loaded: Vec<&str> = settings
        .device
        .decision_keys
        .0
        .iter()
        .map(|k| k.expose())
        .collect();
    assert_eq!(loaded, vec![KEY_A, KEY_B]);
}

#[test]
fn array_elements_and_nested_tables_accept_files() {
    let code = TempFile::new("1234\n");
    let secret = TempFile::new("rs-secret");
    let hooks = TempFile::new("whsec_c2VjcmV0\nwhsec_b3RoZXI=\n");
    let text = format!(
        r#"
[[users.static]]
subject = "bob"
user_code_file = "{}"
[[introspection.clients]]
id = "rs1"
secret_file = "{}"
[device.webhook]
url = "https://device.example.com"
secrets_file = "{}"
"#,
        code.path(),
        secret.path(),
        hooks.path()
    );
    let (value, errors) = resolved(&text);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        value["users"]["static"][0]["user_code"].as_str(),
        Some("1234")
    );
    assert!(value["users"]["static"][0].get("user_code_file").is_none());
    assert_eq!(
        value["introspection"]["clients"][0]["secret"].as_str(),
        Some("rs-secret")
    );
    let secrets = value["device"]["webhook"]["secrets"].as_array().unwrap();
    assert_eq!(secrets.len(), 2);
}

#[test]
fn a_file_can_be_named_from_the_environment() {
    let token = TempFile::new("v3-token\n");
    let text = REMOTE.replace("access_token = \"token-abc\"\n", "");
    let settings = Settings::from_toml_str(
        &text,
        env(&[("GATEWAY_AUTHLETE__ACCESS_TOKEN_FILE", &token.path())]),
    )
    .unwrap();
    assert_eq!(settings.authlete.access_token.unwrap().expose(), "v3-token");
}

#[test]
fn setting_both_a_secret_and_its_file_is_an_error() {
    let file = TempFile::new("from-file");
    let text = format!(
        "[[emulator.clients]]\nclient_id = \"c\"\ndelivery_mode = \"poll\"\n\
         client_secret = \"inline\"\nclient_secret_file = \"{}\"\n",
        file.path()
    );
    let (_, errors) = resolved(&text);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("emulator.clients[0].client_secret_file: client_secret is set too"),
        "{errors:?}"
    );
    assert!(!errors[0].contains("inline") && !errors[0].contains("from-file"));
}

#[test]
fn a_missing_file_is_an_error_naming_key_and_path() {
    let path = std::env::temp_dir().join("authlete-gateway-no-such-secret");
    let path = path.display().to_string().replace('\\', "/");
    let text =
        format!("{EMBEDDED}\n[users.http]\nurl = \"https://x\"\nbearer_token_file = \"{path}\"\n");
    let message = Settings::from_toml_str(&text, Vec::new())
        .unwrap_err()
        .to_string();
    assert!(
        message.starts_with(&format!("users.http.bearer_token_file: cannot read {path}")),
        "{message}"
    );
}

#[test]
fn a_file_path_must_be_a_string() {
    let (_, errors) = resolved("[authlete]\napi_key_file = 7\n");
    assert_eq!(
        errors,
        vec!["authlete.api_key_file: must be a string (the path of the file)"]
    );
}

#[test]
fn cluster_seed_nodes_are_read_one_per_line() {
    let seeds = TempFile::new("rediss://:pw@r1:7000\n\n  rediss://:pw@r2:7000 \n");
    let text = format!(
        "{EMBEDDED}\n[state.redis]\ncluster = true\nurls_file = \"{}\"\n",
        seeds.path()
    );
    let settings = Settings::from_toml_str(&text, Vec::new()).unwrap();
    let urls: Vec<&str> = settings
        .state
        .redis
        .urls
        .0
        .iter()
        .map(|u| u.expose())
        .collect();
    assert_eq!(urls, vec!["rediss://:pw@r1:7000", "rediss://:pw@r2:7000"]);
}
