//! Validation of `[device]`, `[notifications]` and `[[introspection.clients]]`.

use super::{assert_problems, assert_valid};
use crate::config::fixtures::{problems, EMBEDDED, REMOTE};

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
            "notifications.allowed_networks: entries [2] must each be a CIDR",
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
fn an_introspection_rs_uri_is_an_absolute_uri() {
    let with = |uri: &str| {
        format!("{EMBEDDED}\n[[introspection.clients]]\nid = \"rs\"\nsecret = \"s\"\nrs_uri = \"{uri}\"\n")
    };
    assert_valid(&with("https://rs.example.com/api"));
    assert_valid(&with("urn:example:resource-server"));
    for relative in ["/api", "rs.example.com", ""] {
        assert_problems(
            &with(relative),
            &["introspection.clients[0].rs_uri: must be an absolute URI"],
        );
    }
}
