//! Discovery, the JWK Set, ID-token signatures, and the raw client and service objects.

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};

use super::{Emu, ISSUER};

#[actix_web::test]
async fn discovery_lists_the_ciba_metadata_and_gateway_endpoints() {
    let emu = Emu::start().await;
    let (status, d) = emu.get("service/configuration").await;
    assert_eq!(status, 200);
    assert_eq!(d["issuer"], ISSUER);
    assert_eq!(
        d["backchannel_authentication_endpoint"],
        format!("{ISSUER}/backchannel/authentication")
    );
    assert_eq!(d["token_endpoint"], format!("{ISSUER}/token"));
    assert_eq!(d["jwks_uri"], format!("{ISSUER}/jwks"));
    assert_eq!(
        d["introspection_endpoint"],
        format!("{ISSUER}/introspection")
    );
    assert_eq!(d["revocation_endpoint"], format!("{ISSUER}/revocation"));
    assert_eq!(d["userinfo_endpoint"], format!("{ISSUER}/userinfo"));
    assert_eq!(
        d["backchannel_token_delivery_modes_supported"],
        json!(["poll", "ping", "push"])
    );
    assert_eq!(d["backchannel_user_code_parameter_supported"], true);
    assert!(d["grant_types_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("urn:openid:params:grant-type:ciba")));
    let algs = d["backchannel_authentication_request_signing_alg_values_supported"]
        .as_array()
        .unwrap();
    assert!(algs.contains(&json!("RS256")) && !algs.contains(&json!("HS256")));
    assert!(d.get("resultCode").is_none());
}

#[actix_web::test]
async fn discovery_applies_a_json_patch() {
    let emu = Emu::start().await;
    let patch =
        r#"[{"op":"replace","path":"/backchannel_user_code_parameter_supported","value":false}]"#;
    let (_, d) = emu
        .call("service/configuration", json!({"patch": patch}))
        .await;
    assert_eq!(d["backchannel_user_code_parameter_supported"], false);
}

#[actix_web::test]
async fn jwks_publishes_the_public_key_and_private_parts_only_on_request() {
    let emu = Emu::start().await;
    let (_, set) = emu.get("service/jwks/get").await;
    let key = &set["keys"][0];
    assert_eq!(
        (
            key["kty"].as_str(),
            key["alg"].as_str(),
            key["use"].as_str()
        ),
        (Some("RSA"), Some("RS256"), Some("sig"))
    );
    assert!(key["kid"].is_string() && key["n"].is_string());
    assert!(key.get("d").is_none());
    let (_, private) = emu.get("service/jwks/get?includePrivateKeys=true").await;
    for member in ["d", "p", "q", "dp", "dq", "qi"] {
        assert!(private["keys"][0][member].is_string(), "{member}");
    }
}

#[actix_web::test]
async fn id_token_verifies_against_the_served_jwks() {
    let emu = Emu::start().await;
    let (ticket, auth_req_id) = emu.issued("poll-app").await;
    let extra = json!({"sub": "pairwise-alice", "authTime": 1_700_000_000u64, "acr": "urn:acr:high", "claims": "{\"email\":\"alice@example.com\"}"});
    emu.complete(&ticket, extra).await;
    let (_, set) = emu.get("service/jwks/get").await;
    let jwk: Jwk = serde_json::from_value(set["keys"][0].clone()).unwrap();
    let key = DecodingKey::from_jwk(&jwk).unwrap();
    let token = emu.ciba_token("poll-app", &auth_req_id).await;
    let id_token = token["idToken"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    assert_eq!(header.kid.as_deref(), jwk.common.key_id.as_deref());
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&["poll-app"]);
    validation.set_issuer(&[ISSUER]);
    // The emulator's clock is the test's manual clock, which started at the real time.
    let claims = jsonwebtoken::decode::<Value>(id_token, &key, &validation)
        .unwrap()
        .claims;
    assert_eq!(claims["sub"], "pairwise-alice");
    assert_eq!(claims["aud"], "poll-app");
    assert_eq!(claims["auth_time"], 1_700_000_000u64);
    assert_eq!(claims["acr"], "urn:acr:high");
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        3600
    );
    assert_eq!(token["subject"], "alice");
}

#[actix_web::test]
async fn client_get_answers_by_alias_or_number_and_404_for_unknown() {
    let emu = Emu::start().await;
    let (status, c) = emu.get("client/get/ping-app").await;
    assert_eq!(status, 200);
    assert_eq!(c["clientIdAlias"], "ping-app");
    assert_eq!(c["bcDeliveryMode"], "PING");
    assert_eq!(c["bcNotificationEndpoint"], "https://rp.example/cb");
    assert_eq!(c["tokenAuthMethod"], "CLIENT_SECRET_BASIC");
    assert_eq!(c["grantTypes"], json!(["CIBA", "REFRESH_TOKEN"]));
    assert_eq!(c["clientType"], "CONFIDENTIAL");
    let number = c["clientId"].as_u64().unwrap();
    let (_, same) = emu.get(&format!("client/get/{number}")).await;
    assert_eq!(same["clientIdAlias"], "ping-app");
    let (status, missing) = emu.get("client/get/nobody").await;
    assert_eq!(
        (status, missing["resultCode"].as_str()),
        (404, Some("A001218"))
    );
    let (status, missing) = emu.get("client/get/42").await;
    assert_eq!(
        (status, missing["resultMessage"].as_str()),
        (
            404,
            Some("[A001212] /client/get/42, The client (ID = 42) does not exist.")
        )
    );
}

#[actix_web::test]
async fn service_get_answers_the_service_with_its_ciba_settings() {
    let emu = Emu::start().await;
    let (status, s) = emu.get("service/get").await;
    assert_eq!(status, 200);
    assert_eq!(s["apiKey"], emu.run.service_id);
    assert_eq!(
        s["supportedBackchannelTokenDeliveryModes"],
        json!(["POLL", "PING", "PUSH"])
    );
    assert_eq!(s["backchannelAuthReqIdDuration"], 600);
    assert_eq!(s["backchannelPollingInterval"], 5);
    assert_eq!(s["issuer"], ISSUER);
}
