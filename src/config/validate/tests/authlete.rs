//! Validation of `[authlete]` and `[cache]`.

use super::{assert_problems, assert_valid};
use crate::config::fixtures::{EMBEDDED, REMOTE};

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
         complete_timeout_ms = 0\nretry_after_secs = 0\nmax_connections = 0\n\
         max_response_bytes = 1000",
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
            "authlete.max_response_bytes: must be at least 65536",
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
