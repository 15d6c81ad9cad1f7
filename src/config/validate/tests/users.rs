//! Validation of `[users]` and `[ciba]`.

use super::{assert_problems, assert_valid};
use crate::config::fixtures::{problems, EMBEDDED};

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
fn the_long_poll_timeout_lies_between_1_and_60_and_the_bound_is_positive() {
    for timeout in [0, 61] {
        let text = format!(
            "{EMBEDDED}\n[ciba]\nlong_polling = true\nlong_poll_timeout_secs = {timeout}\n\
             max_parked_polls = 0\n"
        );
        assert_problems(
            &text,
            &[
                "ciba.long_poll_timeout_secs: must be",
                "ciba.max_parked_polls: must be at least 1",
            ],
        );
    }
    for timeout in [1, 30, 60] {
        assert_valid(&format!(
            "{EMBEDDED}\n[ciba]\nlong_polling = true\nlong_poll_timeout_secs = {timeout}\n"
        ));
    }
    let defaults = crate::config::CibaSettings::default();
    assert!(!defaults.long_polling);
    assert_eq!(defaults.long_poll_timeout.as_secs(), 30);
    assert_eq!(defaults.max_parked_polls, 10_000);
}

#[test]
fn the_default_binding_message_pattern_compiles() {
    let pattern = regex::Regex::new(crate::config::DEFAULT_BINDING_MESSAGE_PATTERN).unwrap();
    assert!(pattern.is_match("Pay 42 EUR #7"));
    assert!(!pattern.is_match("<script>"));
}
