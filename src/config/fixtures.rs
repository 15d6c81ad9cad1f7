//! Shared helpers for the configuration tests: environments, temporary files, base configs.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::Settings;

/// The smallest configuration that validates: the embedded backend with the console channel.
pub const EMBEDDED: &str = r#"
[admin]
console = true

[authlete]
backend = "embedded"
"#;

/// A valid remote (v3) configuration with the webhook channel.
pub const REMOTE: &str = r#"
[authlete]
backend = "remote"
base_url = "https://jp.authlete.com"
service_id = "715948317"
access_token = "token-abc"

[device]
channel = "webhook"
decision_keys = ["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="]

[device.webhook]
url = "https://device.example.com/hook"
secrets = ["whsec_c2VjcmV0LWtleQ=="]
"#;

pub fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The problems reported for `text` with an empty environment (none when it loads).
pub fn problems(text: &str) -> Vec<String> {
    match Settings::from_toml_str(text, Vec::new()) {
        Ok(_) => Vec::new(),
        Err(e) => e.0,
    }
}

/// A file in the system temp directory, removed when dropped.
pub struct TempFile(PathBuf);

impl TempFile {
    pub fn new(contents: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "authlete-gateway-config-test-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        std::fs::write(&path, contents).unwrap();
        Self(path)
    }

    /// The path as it would be written in TOML (forward slashes are fine on every platform).
    pub fn path(&self) -> String {
        self.0.display().to_string().replace('\\', "/")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
