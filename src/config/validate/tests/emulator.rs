//! Validation of `[emulator]` and `[[emulator.clients]]`.

use super::assert_problems;
use crate::config::fixtures::{problems, EMBEDDED};

#[test]
fn emulator_settings_and_clients_are_checked() {
    let text = format!(
        r#"{EMBEDDED}
[emulator]
listen = "8081"
polling_interval_secs = 0
auth_req_id_lifetime_secs = 0
access_token_lifetime_secs = 0
refresh_token_lifetime_secs = 0
id_token_lifetime_secs = 0
signing_key_file = "/nonexistent/key.pem"

[[emulator.clients]]
client_id = "c1"
client_secret = "s"
delivery_mode = "ping"

[[emulator.clients]]
client_id = "c1"
delivery_mode = "push"
notification_endpoint = "http://127.0.0.1:9464/console/notifications"
token_auth_method = "private_key_jwt"
grant_types = ["ciba", "password"]

[[emulator.clients]]
client_id = ""
delivery_mode = "poll"
token_auth_method = "client_secret_post"
grant_types = []
"#
    );
    assert_problems(
        &text,
        &[
            "emulator.listen",
            "emulator.polling_interval_secs",
            "emulator.auth_req_id_lifetime_secs",
            "emulator.access_token_lifetime_secs",
            "emulator.refresh_token_lifetime_secs",
            "emulator.id_token_lifetime_secs",
            "emulator.signing_key_file: cannot open",
            "emulator.clients[0].notification_endpoint: is required",
            "emulator.clients[1].client_id: is listed twice",
            "emulator.clients[1].notification_endpoint: is http",
            "emulator.clients[1].token_auth_method",
            "emulator.clients[1].grant_types[1]",
            "emulator.clients[2].client_id: must not be empty",
            "emulator.clients[2].client_secret: is required",
            "emulator.clients[2].grant_types: must list",
        ],
    );
    assert_eq!(problems(&text).len(), 15, "{:#?}", problems(&text));
}

#[test]
fn request_signing_jwks_acrs_and_the_dpop_window_are_checked() {
    let text = format!(
        r#"{EMBEDDED}
[emulator]
supported_acrs = ["urn:acr:pwd"]
dpop_proof_window_secs = 0

[[emulator.clients]]
client_id = "hs"
default_acrs = ["urn:acr:pwd", "urn:acr:other"]
client_secret = "s"
delivery_mode = "poll"
request_signing_alg = "HS256"
jwks = "not json"

[[emulator.clients]]
client_id = "fapi"
client_secret = "s"
delivery_mode = "poll"
fapi_ciba = true
jwks = '{{"keys": [{{"kty": "EC", "crv": "P-256", "x": "a", "y": "b", "d": "c"}}, {{"kty": "oct", "kid": "x"}}]}}'

[[emulator.clients]]
client_id = "good"
client_secret = "s"
delivery_mode = "poll"
request_signing_alg = "ES256"
jwks = '{{"keys": [{{"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}}]}}'
"#
    );
    assert_problems(
        &text,
        &[
            "emulator.clients[0].request_signing_alg: must be one of RS256",
            "emulator.clients[0].jwks: must be a JWK Set",
            "emulator.clients[1].request_signing_alg: is required with fapi_ciba",
            "emulator.clients[1].jwks.keys[0]: holds private",
            "emulator.clients[1].jwks.keys[1]: is not an RSA",
            "emulator.clients[0].default_acrs[1]: is not listed",
            "emulator.dpop_proof_window_secs",
        ],
    );
    assert_eq!(problems(&text).len(), 7, "{:#?}", problems(&text));
}
