//! Answers that match Authlete's own where the emulator used to be more lenient: repeated
//! parameters, `parameters` the caller got wrong, and the catalogue's codes and messages.

use serde_json::json;

use super::{assert_oauth_error, content, Emu};

#[actix_web::test]
async fn a_login_hint_sent_twice_is_refused_with_a166304() {
    let emu = Emu::start().await;
    let r = emu
        .backchannel("poll-app", "scope=openid&login_hint=alice&login_hint=bob")
        .await;
    assert_oauth_error(&r, "BAD_REQUEST", "A166304", "invalid_request");
    assert_eq!(
        r["resultMessage"],
        "[A166304] The request parameter 'login_hint' is included in the request more than once."
    );
}

#[actix_web::test]
async fn every_single_valued_backchannel_parameter_sent_twice_is_refused() {
    let emu = Emu::start().await;
    for name in [
        "scope",
        "acr_values",
        "binding_message",
        "user_code",
        "requested_expiry",
        "client_notification_token",
    ] {
        let params = format!("scope=openid&login_hint=alice&{name}=1&{name}=2");
        let params = params.replacen("scope=openid&", "", usize::from(name == "scope"));
        let r = emu.backchannel("poll-app", &params).await;
        assert_oauth_error(&r, "BAD_REQUEST", "A166304", "invalid_request");
        assert!(r["resultMessage"]
            .as_str()
            .unwrap()
            .contains(&format!("'{name}'")));
    }
    let r = emu
        .backchannel(
            "poll-app",
            "scope=openid&login_hint=a&resource=https%3A%2F%2Fa&resource=https%3A%2F%2Fb",
        )
        .await;
    assert_eq!(
        r["action"], "USER_IDENTIFICATION",
        "resource may repeat: {r}"
    );
}

#[actix_web::test]
async fn token_request_parameters_sent_twice_get_each_grants_own_code() {
    let emu = Emu::start().await;
    let id = emu.authorized("poll-app").await;
    let ciba = "grant_type=urn%3Aopenid%3Aparams%3Agrant-type%3Aciba";
    let r = emu
        .token(
            "poll-app",
            &format!("{ciba}&auth_req_id={id}&auth_req_id={id}"),
        )
        .await;
    assert_oauth_error(&r, "BAD_REQUEST", "A200303", "invalid_request");
    let r = emu
        .token(
            "poll-app",
            &format!("{ciba}&grant_type=refresh_token&auth_req_id={id}"),
        )
        .await;
    assert_oauth_error(&r, "BAD_REQUEST", "A049303", "invalid_request");
    let r = emu
        .token(
            "poll-app",
            "grant_type=refresh_token&refresh_token=a&refresh_token=b",
        )
        .await;
    assert_oauth_error(&r, "BAD_REQUEST", "A053303", "invalid_request");
    let r = emu
        .token(
            "poll-app",
            "grant_type=refresh_token&refresh_token=a&scope=openid&scope=x",
        )
        .await;
    assert_oauth_error(&r, "BAD_REQUEST", "A053304", "invalid_request");
    let r = emu
        .token("cc-app", "grant_type=client_credentials&scope=a&scope=b")
        .await;
    assert_oauth_error(&r, "BAD_REQUEST", "A052302", "invalid_request");
    let r = emu
        .token(
            "poll-app",
            &format!("{ciba}&auth_req_id={id}&client_id=poll-app&client_id=poll-app"),
        )
        .await;
    assert_oauth_error(&r, "BAD_REQUEST", "A048303", "invalid_request");
}

#[actix_web::test]
async fn revocation_and_introspection_parameters_sent_twice_are_refused() {
    let emu = Emu::start().await;
    let body = json!({"parameters": "token=a&token=b", "clientId": "poll-app", "clientSecret": "poll-app-secret"});
    let (_, r) = emu.call("auth/revocation", body).await;
    assert_oauth_error(&r, "BAD_REQUEST", "A115303", "invalid_request");
    let body = json!({"parameters": "token=a&token_type_hint=x&token_type_hint=y", "clientId": "poll-app", "clientSecret": "poll-app-secret"});
    let (_, r) = emu.call("auth/revocation", body).await;
    assert_oauth_error(&r, "BAD_REQUEST", "A166304", "invalid_request");
    let (_, r) = emu
        .call(
            "auth/introspection/standard",
            json!({"parameters": "token=a&token=b"}),
        )
        .await;
    assert_oauth_error(&r, "BAD_REQUEST", "A166304", "invalid_request");
}

#[actix_web::test]
async fn missing_parameters_are_the_callers_error_and_missing_tokens_the_clients() {
    let emu = Emu::start().await;
    for (api, code) in [
        ("backchannel/authentication", "A166201"),
        ("auth/token", "A047201"),
        ("auth/revocation", "A113201"),
        ("auth/introspection/standard", "A145201"),
    ] {
        let (_, r) = emu.call(api, json!({"clientId": "poll-app"})).await;
        assert_oauth_error(&r, "INTERNAL_SERVER_ERROR", code, "server_error");
    }
    let (_, r) = emu
        .call(
            "auth/introspection/standard",
            json!({"parameters": "token_type_hint=x"}),
        )
        .await;
    assert_oauth_error(&r, "BAD_REQUEST", "A145302", "invalid_request");
    assert_eq!(
        r["resultMessage"],
        "[A145302] The 'token' request parameter is missing."
    );
    let (_, r) = emu
        .call(
            "auth/introspection/standard",
            json!({"parameters": "token=unknown"}),
        )
        .await;
    assert_eq!(
        r["resultMessage"],
        "[A145001] Introspection was performed successfully (type=null, active=false)."
    );
}

#[actix_web::test]
async fn the_push_mode_acknowledgement_carries_no_interval() {
    let emu = Emu::start().await;
    let ticket = emu.ticket("push-app").await;
    let (_, r) = emu
        .call(
            "backchannel/authentication/issue",
            json!({"ticket": ticket}),
        )
        .await;
    assert_eq!(r["action"], "OK");
    let body = content(&r);
    assert!(body.get("interval").is_none(), "{body}");
    assert!(body["expires_in"].is_u64(), "{body}");

    let ticket = emu.ticket("poll-app").await;
    let (_, r) = emu
        .call(
            "backchannel/authentication/issue",
            json!({"ticket": ticket}),
        )
        .await;
    assert!(content(&r)["interval"].is_u64(), "{r}");
}

#[actix_web::test]
async fn token_fields_of_complete_apply_in_push_mode_only() {
    let emu = Emu::start().await;
    let (ticket, id) = emu.issued("poll-app").await;
    let extra =
        json!({"accessToken": "chosen-at", "accessTokenDuration": 60, "refreshTokenDuration": 60});
    let r = emu.complete(&ticket, extra).await;
    assert_eq!(r["resultCode"], "A198001");
    assert_eq!(
        r["resultMessage"],
        "[A198001] Successfully updated the database so that the token endpoint can generate tokens (mode = poll, result = AUTHORIZED)."
    );
    let t = emu.ciba_token("poll-app", &id).await;
    assert_eq!(t["action"], "OK", "{t}");
    assert_ne!(t["accessToken"], "chosen-at");
    assert_eq!(t["accessTokenDuration"], 3600);
    assert_ne!(t["refreshTokenDuration"], 60);
}

#[actix_web::test]
async fn complete_refuses_claims_and_header_params_not_given_as_json_strings() {
    let emu = Emu::start().await;
    for (extra, code) in [
        (json!({"claims": {"name": "Alice"}}), "A190201"),
        (json!({"claims": "not json"}), "A190201"),
        (json!({"idtHeaderParams": {"typ": "x"}}), "A256201"),
        (json!({"idtHeaderParams": "[1]"}), "A256201"),
        (json!({"scopes": "openid"}), "A001101"),
        (json!({"consentedClaims": "name"}), "A001101"),
    ] {
        let (ticket, _) = emu.issued("poll-app").await;
        let r = emu.complete(&ticket, extra.clone()).await;
        assert_eq!(
            (r["action"].as_str(), r["resultCode"].as_str()),
            (Some("SERVER_ERROR"), Some(code)),
            "{extra}: {r}"
        );
    }
    let (ticket, _) = emu.issued("poll-app").await;
    let extra = json!({"claims": "{\"name\":\"Alice\"}", "idtHeaderParams": "{\"typ\":\"x\"}", "scopes": ["openid"], "consentedClaims": ["name"]});
    let r = emu.complete(&ticket, extra).await;
    assert_eq!(r["action"], "NO_ACTION", "{r}");
}

#[actix_web::test]
async fn backchannel_answer_carries_resources_and_authorization_details() {
    let emu = Emu::start().await;
    let details = r#"[{"type":"payment_initiation","amount":"10"}]"#;
    let params = format!(
        "scope=openid&login_hint=alice&resource=https%3A%2F%2Frs.example%2Fa&resource=https%3A%2F%2Frs.example%2Fb&authorization_details={}",
        urlencode(details)
    );
    let r = emu.backchannel("poll-app", &params).await;
    assert_eq!(r["action"], "USER_IDENTIFICATION", "{r}");
    assert_eq!(
        r["resources"],
        json!(["https://rs.example/a", "https://rs.example/b"])
    );
    assert_eq!(
        r["authorizationDetails"],
        json!({"elements": [{"type": "payment_initiation", "amount": "10"}]})
    );

    let r = emu
        .backchannel("poll-app", "scope=openid&login_hint=alice")
        .await;
    assert!(r.get("resources").is_none() && r.get("authorizationDetails").is_none());

    for (details, code) in [("{}", "A249305"), ("nope", "A249304"), ("[{}]", "A249301")] {
        let params = format!(
            "scope=openid&login_hint=alice&authorization_details={}",
            urlencode(details)
        );
        let r = emu.backchannel("poll-app", &params).await;
        assert_eq!(r["resultCode"], code, "{details}: {r}");
        assert_eq!(r["action"], "BAD_REQUEST");
    }
}

#[actix_web::test]
async fn discovery_lists_none_when_a_public_client_exists() {
    let emu = Emu::start().await;
    let (_, doc) = emu.get("service/configuration").await;
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post", "none"])
    );
    let emu = Emu::start_with(|s| s.clients.retain(|c| c.token_auth_method != "none")).await;
    let (_, doc) = emu.get("service/configuration").await;
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post"])
    );
}

fn urlencode(text: &str) -> String {
    serde_urlencoded::to_string([("v", text)]).unwrap()[2..].to_owned()
}

#[actix_web::test]
async fn a_token_repeated_in_a_form_body_of_introspection_or_userinfo_is_refused() {
    let emu = Emu::start().await;
    for api in ["auth/introspection", "auth/userinfo", "auth/userinfo/issue"] {
        let mut response = emu
            .http()
            .post(emu.v3(api))
            .bearer_auth(&emu.run.access_token)
            .send_form(&[("token", "a"), ("token", "b")])
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let r: serde_json::Value = response.json().await.unwrap();
        assert_eq!(
            (r["action"].as_str(), r["resultCode"].as_str()),
            (Some("BAD_REQUEST"), Some("A166304")),
            "{api}: {r}"
        );
        assert_eq!(
            r["resultMessage"],
            "[A166304] The request parameter 'token' is included in the request more than once."
        );
    }
}

#[actix_web::test]
async fn unsupported_acrs_are_dropped_and_default_acrs_applied_with_warnings() {
    let emu = Emu::start_with(|s| {
        s.supported_acrs = vec!["urn:acr:pwd".into(), "urn:acr:mfa".into()];
        s.clients[0].default_acrs = vec!["urn:acr:pwd".into()];
    })
    .await;
    let r = emu
        .backchannel(
            "poll-app",
            "scope=openid&login_hint=alice&acr_values=urn%3Aacr%3Amfa+urn%3Aacr%3Aother",
        )
        .await;
    assert_eq!(r["action"], "USER_IDENTIFICATION", "{r}");
    assert_eq!(r["acrs"], json!(["urn:acr:mfa"]));
    assert_eq!(
        r["warnings"],
        json!(["[A173301] The ACR value 'urn:acr:other' required by the backchannel authentication request is ignored because it is not registered as a supported ACR value."])
    );
    let r = emu
        .backchannel("poll-app", "scope=openid&login_hint=alice")
        .await;
    assert_eq!(r["acrs"], json!(["urn:acr:pwd"]));
    assert_eq!(
        r["warnings"],
        json!(["[A173401] Because the 'acr_values' parameter was omitted, the default set of ACR values is implicitly used: urn:acr:pwd"])
    );
    let r = emu
        .backchannel("other-app", "scope=openid&login_hint=alice")
        .await;
    assert!(
        r.get("acrs").is_none() && r.get("warnings").is_none(),
        "{r}"
    );
    let (_, d) = emu.get("service/configuration").await;
    assert_eq!(
        d["acr_values_supported"],
        json!(["urn:acr:pwd", "urn:acr:mfa"])
    );
    // Without supported ACRs the service keeps every requested value.
    let emu = Emu::start().await;
    let r = emu
        .backchannel(
            "poll-app",
            "scope=openid&login_hint=alice&acr_values=urn%3Aany",
        )
        .await;
    assert_eq!(r["acrs"], json!(["urn:any"]));
    let (_, d) = emu.get("service/configuration").await;
    assert!(d.get("acr_values_supported").is_none());
}

#[actix_web::test]
async fn idt_header_params_are_added_to_the_id_token_header() {
    use jsonwebtoken::jwk::Jwk;
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};
    let emu = Emu::start().await;
    let (ticket, auth_req_id) = emu.issued("poll-app").await;
    let params = r#"{"x-tenant":"blue","typ":"id+jwt","alg":"none","kid":"forged"}"#;
    let r = emu
        .complete(&ticket, json!({"idtHeaderParams": params}))
        .await;
    assert_eq!(r["action"], "NO_ACTION", "{r}");
    let token = emu.ciba_token("poll-app", &auth_req_id).await;
    let id_token = token["idToken"].as_str().unwrap();
    let header: serde_json::Value = {
        use base64::Engine;
        let part = id_token.split('.').next().unwrap();
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    };
    assert_eq!(header["x-tenant"], "blue");
    assert_eq!(header["typ"], "id+jwt");
    assert_eq!(header["alg"], "RS256");
    let (_, set) = emu.get("service/jwks/get").await;
    assert_eq!(header["kid"], set["keys"][0]["kid"]);
    let jwk: Jwk = serde_json::from_value(set["keys"][0].clone()).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&["poll-app"]);
    let claims = jsonwebtoken::decode::<serde_json::Value>(
        id_token,
        &DecodingKey::from_jwk(&jwk).unwrap(),
        &validation,
    )
    .unwrap()
    .claims;
    assert_eq!(claims["sub"], "alice");
}

#[actix_web::test]
async fn fail_without_a_ticket_is_the_callers_error() {
    let emu = Emu::start().await;
    let (_, r) = emu
        .call(
            "backchannel/authentication/fail",
            json!({"reason": "ACCESS_DENIED"}),
        )
        .await;
    assert_oauth_error(&r, "INTERNAL_SERVER_ERROR", "A186201", "server_error");
}
