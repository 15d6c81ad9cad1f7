//! `[emulator]` and `[[emulator.clients]]`.

use std::collections::HashSet;

use super::{path_set, Problems};
use crate::config::{parse_http_url, DeliveryMode, EmulatorClient, Secret, Settings};

const TOKEN_AUTH_METHODS: [&str; 4] = [
    "none",
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
];
const GRANT_TYPES: [&str; 3] = ["ciba", "refresh_token", "client_credentials"];
/// The request-object algorithms the emulator verifies.
const REQUEST_SIGNING_ALGS: [&str; 9] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

pub(super) fn check(settings: &Settings, p: &mut Problems) {
    let emulator = &settings.emulator;
    for (key, value) in [
        ("auth_req_id_lifetime_secs", emulator.auth_req_id_lifetime),
        ("polling_interval_secs", emulator.polling_interval),
        ("access_token_lifetime_secs", emulator.access_token_lifetime),
        (
            "refresh_token_lifetime_secs",
            emulator.refresh_token_lifetime,
        ),
        ("id_token_lifetime_secs", emulator.id_token_lifetime),
        ("dpop_proof_window_secs", emulator.dpop_proof_window),
    ] {
        p.not_zero(format!("emulator.{key}"), value);
    }
    if let Some(path) = path_set(&emulator.signing_key_file) {
        p.readable_file("emulator.signing_key_file", path);
    }
    let mut ids = HashSet::new();
    for (i, client) in emulator.clients.iter().enumerate() {
        let key = format!("emulator.clients[{i}]");
        if client.client_id.trim().is_empty() {
            p.add(format!("{key}.client_id"), "must not be empty");
        } else if !ids.insert(client.client_id.as_str()) {
            p.add(format!("{key}.client_id"), "is listed twice");
        }
        check_client(&key, client, settings.notifications.allow_insecure_http, p);
        let supported = &emulator.supported_acrs;
        for (j, acr) in client.default_acrs.iter().enumerate() {
            if !supported.is_empty() && !supported.contains(acr) {
                p.add(
                    format!("{key}.default_acrs[{j}]"),
                    "is not listed in emulator.supported_acrs",
                );
            }
        }
    }
}

fn check_client(key: &str, client: &EmulatorClient, insecure_ok: bool, p: &mut Problems) {
    if client.delivery_mode != DeliveryMode::Poll {
        match &client.notification_endpoint {
            None => p.add(
                format!("{key}.notification_endpoint"),
                "is required for ping and push clients",
            ),
            Some(url) => match parse_http_url(url) {
                Err(message) => p.add(format!("{key}.notification_endpoint"), message),
                Ok(url) if url.scheme() == "http" && !insecure_ok => p.add(
                    format!("{key}.notification_endpoint"),
                    "is http, which notifications.allow_insecure_http = false refuses",
                ),
                Ok(_) => {}
            },
        }
    }
    let method = client.token_auth_method.as_str();
    if !TOKEN_AUTH_METHODS.contains(&method) {
        p.add(
            format!("{key}.token_auth_method"),
            "must be none, client_secret_basic, client_secret_post or client_secret_jwt",
        );
    }
    let has_secret = client.client_secret.as_ref().is_some_and(|s| !s.is_empty());
    if method.starts_with("client_secret") && !has_secret {
        p.add(
            format!("{key}.client_secret"),
            format!("is required with token_auth_method = \"{method}\""),
        );
    }
    if client.client_secret.as_ref().is_some_and(Secret::is_empty) {
        p.add(format!("{key}.client_secret"), "must not be empty when set");
    }
    if client.grant_types.is_empty() {
        p.add(
            format!("{key}.grant_types"),
            "must list at least one grant type",
        );
    }
    for (j, grant) in client.grant_types.iter().enumerate() {
        if !GRANT_TYPES.contains(&grant.as_str()) {
            p.add(
                format!("{key}.grant_types[{j}]"),
                "must be ciba, refresh_token or client_credentials",
            );
        }
    }
    check_request_signing(key, client, p);
}

/// `request_signing_alg` is an algorithm the emulator verifies; `jwks` is a JWK Set of public
/// keys. A client with the algorithm but no `jwks` is allowed, as Authlete allows it (its
/// signed requests are then refused).
fn check_request_signing(key: &str, client: &EmulatorClient, p: &mut Problems) {
    if let Some(alg) = &client.request_signing_alg {
        if !REQUEST_SIGNING_ALGS.contains(&alg.as_str()) {
            p.add(
                format!("{key}.request_signing_alg"),
                format!("must be one of {}", REQUEST_SIGNING_ALGS.join(", ")),
            );
        }
    }
    if client.fapi_ciba && client.request_signing_alg.is_none() {
        p.add(
            format!("{key}.request_signing_alg"),
            "is required with fapi_ciba = true (FAPI-CIBA requests are signed)",
        );
    }
    let Some(text) = &client.jwks else {
        return;
    };
    let keys = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(set) => set.get("keys").and_then(|keys| keys.as_array()).cloned(),
        Err(_) => None,
    };
    let Some(keys) = keys else {
        p.add(
            format!("{key}.jwks"),
            "must be a JWK Set: a JSON object with a \"keys\" array",
        );
        return;
    };
    for (j, jwk) in keys.iter().enumerate() {
        let private = ["d", "p", "q", "dp", "dq", "qi", "k"]
            .iter()
            .any(|member| jwk.get(member).is_some());
        if private {
            p.add(
                format!("{key}.jwks.keys[{j}]"),
                "holds private or symmetric key material; register public keys only",
            );
        } else if serde_json::from_value::<jsonwebtoken::jwk::Jwk>(jwk.clone())
            .map_err(|e| e.to_string())
            .and_then(|jwk| {
                jsonwebtoken::DecodingKey::from_jwk(&jwk)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
            .is_err()
        {
            p.add(
                format!("{key}.jwks.keys[{j}]"),
                "is not an RSA, EC (P-256, P-384) or Ed25519 public key",
            );
        }
    }
}
