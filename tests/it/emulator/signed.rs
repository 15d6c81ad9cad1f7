//! Signed backchannel requests (CIBA Core §7.1.1, FAPI-CIBA): request objects signed with real
//! RSA and P-256 keys, verified against each client's registered algorithm and JWK Set.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use super::{assert_oauth_error, signing_client, Emu, ISSUER};
use crate::support::{jwks_text, random_jti, ClientKey};

/// The claims of a valid request object of `client`, valid for five minutes from now.
fn claims(emu: &Emu, client: &str) -> Value {
    let now = emu.now();
    json!({
        "iss": client, "aud": ISSUER, "iat": now, "nbf": now, "exp": now + 300,
        "jti": random_jti(),
        "scope": "openid profile", "login_hint": "alice", "binding_message": "W4SCT",
        "requested_expiry": 120,
    })
}

fn with(mut claims: Value, changes: Value) -> Value {
    for (name, value) in changes.as_object().unwrap() {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(name);
        } else {
            claims[name] = value.clone();
        }
    }
    claims
}

/// Sends `request` (and `extra` form parameters) as `client`'s backchannel request.
async fn send(emu: &Emu, client: &str, request: &str, extra: &str) -> Value {
    let params = format!("request={request}{extra}");
    emu.backchannel(client, &params).await
}

/// The result code and its message of a refused signed request.
async fn refused(emu: &Emu, client: &str, request: &str, code: &str) -> String {
    let r = send(emu, client, request, "").await;
    assert_oauth_error(&r, "BAD_REQUEST", code, "invalid_request");
    r["resultMessage"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn rs256_ps256_and_es256_request_objects_are_verified_and_their_claims_used() {
    let emu = Emu::start().await;
    for (client, alg, key) in [
        ("rs-app", "RS256", ClientKey::rsa()),
        ("ps-app", "PS256", ClientKey::rsa()),
        ("es-app", "ES256", ClientKey::p256()),
    ] {
        let claims = with(
            claims(&emu, client),
            json!({"request_context": {"location": "branch-7", "amount": 42}}),
        );
        let r = send(&emu, client, &key.sign(alg, &claims), "").await;
        assert_eq!(r["action"], "USER_IDENTIFICATION", "{alg}: {r}");
        assert_eq!(r["resultCode"], "A179001");
        assert_eq!(r["hintType"], "LOGIN_HINT");
        assert_eq!(r["hint"], "alice");
        assert_eq!(r["bindingMessage"], "W4SCT");
        assert_eq!(r["requestedExpiry"], 120);
        assert_eq!(r["scopes"][1]["name"], "profile");
        let context: Value = serde_json::from_str(r["requestContext"].as_str().unwrap()).unwrap();
        assert_eq!(context, json!({"location": "branch-7", "amount": 42}));
    }
    let plain = emu
        .backchannel("poll-app", "scope=openid&login_hint=alice")
        .await;
    assert!(plain.get("requestContext").is_none(), "{plain}");
}

#[actix_web::test]
async fn a_signature_that_does_not_verify_is_refused() {
    let emu = Emu::start().await;
    let claims = claims(&emu, "es-app");
    // Signed by another P-256 key under the registered key's ID.
    let impostor = ClientKey::ec("ec-1");
    let message = refused(&emu, "es-app", &impostor.sign("ES256", &claims), "A167314").await;
    assert_eq!(message, "[A167314] The signature of the request object included in the backchannel authentication request is invalid.");
    // A genuine signature over claims changed afterwards.
    let genuine = ClientKey::p256().sign("ES256", &claims);
    let parts: Vec<&str> = genuine.split('.').collect();
    let changed =
        URL_SAFE_NO_PAD.encode(with(claims.clone(), json!({"login_hint": "bob"})).to_string());
    let tampered = format!("{}.{changed}.{}", parts[0], parts[2]);
    refused(&emu, "es-app", &tampered, "A167314").await;
    // The genuine one still passes.
    let r = send(&emu, "es-app", &genuine, "").await;
    assert_eq!(r["action"], "USER_IDENTIFICATION", "{r}");
}

#[actix_web::test]
async fn the_algorithm_must_be_the_registered_asymmetric_one() {
    let emu = Emu::start().await;
    let claims = claims(&emu, "rs-app");
    let message = refused(
        &emu,
        "rs-app",
        &ClientKey::rsa().sign("PS256", &claims),
        "A167310",
    )
    .await;
    assert!(
        message.contains("('PS256')") && message.contains("('RS256')"),
        "{message}"
    );
    let b64 = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let hs256 = format!(
        "{}.{}.c2ln",
        b64(json!({"alg": "HS256"})),
        b64(claims.clone())
    );
    refused(&emu, "rs-app", &hs256, "A167308").await;
    let unsigned = format!("{}.{}.", b64(json!({"alg": "none"})), b64(claims.clone()));
    refused(&emu, "rs-app", &unsigned, "A167303").await;
    refused(&emu, "rs-app", "a.b.c.d.e", "A167304").await;
    refused(&emu, "rs-app", "not-a-jws", "A167302").await;
    let not_json = format!(
        "{}.{}.c2ln",
        b64(json!({"alg": "RS256"})),
        URL_SAFE_NO_PAD.encode("[1")
    );
    refused(&emu, "rs-app", &not_json, "A167305").await;
}

#[actix_web::test]
async fn the_verifying_key_is_found_by_kid_and_type() {
    let second = ClientKey::ec("ec-2");
    let both = jwks_text(&[ClientKey::p256(), &second]);
    let emu = Emu::start_with(|s| {
        s.clients
            .push(signing_client("two-keys", "ES256", Some(both)));
        s.clients.push(signing_client("no-keys", "ES256", None));
    })
    .await;
    let claims = claims(&emu, "two-keys");
    let r = send(&emu, "two-keys", &second.sign("ES256", &claims), "").await;
    assert_eq!(r["action"], "USER_IDENTIFICATION", "{r}");
    let unnamed = second.sign_with("ES256", json!({"kid": null}), &claims);
    let message = refused(&emu, "two-keys", &unnamed, "A167313").await;
    assert!(message.contains("alg = 'ES256', kid = 'null'"), "{message}");
    let unknown = second.sign_with("ES256", json!({"kid": "ec-9"}), &claims);
    refused(&emu, "two-keys", &unknown, "A167312").await;
    let claims = with(claims, json!({"iss": "no-keys"}));
    refused(&emu, "no-keys", &second.sign("ES256", &claims), "A167311").await;
}

#[actix_web::test]
async fn iss_aud_and_the_times_are_checked() {
    let emu = Emu::start().await;
    let key = ClientKey::p256();
    let now = emu.now();
    let base = claims(&emu, "es-app");
    for (changes, code, named) in [
        (json!({"iss": null}), "A167306", ""),
        (json!({"iss": "poll-app"}), "A167307", ""),
        (json!({"aud": null}), "A167315", "'aud'"),
        (json!({"aud": "https://other.example"}), "A167321", ""),
        (json!({"aud": ["https://other.example"]}), "A167324", ""),
        (json!({"exp": null}), "A167315", "'exp'"),
        (json!({"iat": null}), "A167315", "'iat'"),
        (json!({"nbf": null}), "A167315", "'nbf'"),
        (json!({"jti": null}), "A167315", "'jti'"),
        (json!({"exp": "soon"}), "A167317", "'exp'"),
        (json!({"exp": now}), "A167318", ""),
        (json!({"iat": now + 60}), "A167319", ""),
        (json!({"nbf": now + 60}), "A167320", ""),
        (json!({"request_context": "branch-7"}), "A167326", ""),
        (
            json!({"client_secret": "es-app-secret"}),
            "A167322",
            "'client_secret'",
        ),
        (json!({"login_hint": 7}), "A167323", "'login_hint'"),
    ] {
        let claims = with(base.clone(), changes.clone());
        let message = refused(&emu, "es-app", &key.sign("ES256", &claims), code).await;
        assert!(message.contains(named), "{changes}: {message}");
    }
    // The client's numeric ID is its identifier too, and `aud` may be an array.
    let (_, object) = emu.get("client/get/es-app").await;
    let numeric = object["clientId"].to_string();
    assert_eq!(object["bcRequestSignAlg"], "ES256");
    let claims = with(
        base,
        json!({"iss": numeric, "aud": ["https://x.example", ISSUER]}),
    );
    let r = send(&emu, "es-app", &key.sign("ES256", &claims), "").await;
    assert_eq!(r["action"], "USER_IDENTIFICATION", "{r}");
}

#[actix_web::test]
async fn a_request_object_is_used_once() {
    let emu = Emu::start().await;
    let request = ClientKey::p256().sign("ES256", &claims(&emu, "es-app"));
    let r = send(&emu, "es-app", &request, "").await;
    assert_eq!(r["action"], "USER_IDENTIFICATION", "{r}");
    refused(&emu, "es-app", &request, "A167318").await;
}

#[actix_web::test]
async fn ciba_parameters_outside_the_request_object_are_refused() {
    let emu = Emu::start().await;
    let key = ClientKey::p256();
    let r = send(
        &emu,
        "es-app",
        &key.sign("ES256", &claims(&emu, "es-app")),
        "&login_hint=bob",
    )
    .await;
    assert_oauth_error(&r, "BAD_REQUEST", "A167301", "invalid_request");
    assert!(r["resultMessage"]
        .as_str()
        .unwrap()
        .contains("'login_hint'"));
    // Client authentication belongs outside: client_id in the form is fine.
    let r = send(
        &emu,
        "es-app",
        &key.sign("ES256", &claims(&emu, "es-app")),
        "&client_id=es-app",
    )
    .await;
    assert_eq!(r["action"], "USER_IDENTIFICATION", "{r}");
    // A client registered without an algorithm may not sign.
    let r = emu
        .backchannel(
            "poll-app",
            &format!("request={}", key.sign("ES256", &claims(&emu, "poll-app"))),
        )
        .await;
    assert_oauth_error(&r, "BAD_REQUEST", "A167309", "invalid_request");
}

#[actix_web::test]
async fn fapi_ciba_clients_sign_with_ps256_or_es256_for_at_most_an_hour() {
    let emu = Emu::start_with(|s| {
        let rsa = Some(jwks_text(&[ClientKey::rsa()]));
        let fapi = |id: &str, alg: &str| {
            let mut c = signing_client(id, alg, rsa.clone());
            c.fapi_ciba = true;
            c
        };
        s.clients.push(fapi("fapi-app", "PS256"));
        s.clients.push(fapi("fapi-rs", "RS256"));
    })
    .await;
    let key = ClientKey::rsa();
    let r = emu
        .backchannel("fapi-app", "scope=openid&login_hint=alice")
        .await;
    assert_oauth_error(&r, "BAD_REQUEST", "A243303", "invalid_request");
    let base = claims(&emu, "fapi-app");
    let now = emu.now();
    let long = with(base.clone(), json!({"exp": now + 3601}));
    let message = refused(&emu, "fapi-app", &key.sign("PS256", &long), "A243304").await;
    assert!(message.contains("(3600 seconds)"), "{message}");
    let hour = with(base, json!({"exp": now + 3600}));
    let r = send(&emu, "fapi-app", &key.sign("PS256", &hour), "").await;
    assert_eq!(r["action"], "USER_IDENTIFICATION", "{r}");
    let claims = claims(&emu, "fapi-rs");
    let message = refused(&emu, "fapi-rs", &key.sign("RS256", &claims), "A243306").await;
    assert!(message.contains("(RS256)"), "{message}");
}

#[actix_web::test]
async fn discovery_lists_the_verified_algorithms_only_when_a_client_signs() {
    let emu = Emu::start().await;
    let (_, d) = emu.get("service/configuration").await;
    assert_eq!(
        d["backchannel_authentication_request_signing_alg_values_supported"],
        json!(["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"])
    );
    assert_eq!(
        d["dpop_signing_alg_values_supported"],
        d["backchannel_authentication_request_signing_alg_values_supported"]
    );
    let emu = Emu::start_with(|s| s.clients.retain(|c| c.request_signing_alg.is_none())).await;
    let (_, d) = emu.get("service/configuration").await;
    assert!(
        d.get("backchannel_authentication_request_signing_alg_values_supported")
            .is_none(),
        "{d}"
    );
}
