//! The common HTTP rules of SPEC §3: request shape, methods, paths, request ids. Every refusal
//! here happens before Authlete is called.

use serde_json::json;

use crate::support::*;

async fn post_raw(gw: &TestGateway, route: &str, content_type: &str, body: Vec<u8>) -> Reply {
    let response = client()
        .post(format!("{}{route}", gw.base))
        .insert_header(("Content-Type", content_type))
        .send_body(body)
        .await;
    let mut response = response.unwrap_or_else(|e| panic!("{e}"));
    let body = response.body().await.unwrap_or_default();
    Reply {
        status: response.status(),
        headers: response.headers().clone(),
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

async fn assert_authlete_not_called(gw: &TestGateway) {
    let received: Vec<_> = gw
        .authlete
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        // The start-up discovery check is not part of the request under test.
        .filter(|r| r.url.path() != api_path("service/configuration"))
        .collect();
    assert!(received.is_empty(), "Authlete was called: {received:?}");
}

fn assert_invalid_request(reply: &Reply, status: u16) {
    assert_eq!(reply.status, status, "{}", reply.body);
    reply.assert_no_store_json();
    assert_eq!(reply.json()["error"], "invalid_request");
}

#[actix_web::test]
async fn malformed_basic_credentials_get_401_without_calling_authlete() {
    let gw = TestGateway::start().await;
    for value in [
        "Basic !!!not-base64",
        "Basic bm9jb2xvbg==", // "nocolon"
        "Basic YSUyOmI=",     // "a%2:b", a bad escape
        "Bearer some-token",
        "Digest username=x",
    ] {
        for route in ["/backchannel/authentication", "/token"] {
            let reply = gw
                .post_form(route, "scope=openid", &[("Authorization", value)])
                .await;
            assert_eq!(reply.status, 401, "{route} {value}");
            reply.assert_no_store_json();
            assert_eq!(reply.json()["error"], "invalid_client");
            assert_eq!(
                reply.header("www-authenticate"),
                Some(r#"Basic realm="https://as.example.com""#)
            );
        }
    }
    assert_authlete_not_called(&gw).await;
}

#[actix_web::test]
async fn a_json_body_is_refused() {
    let gw = TestGateway::start().await;
    let reply = post_raw(
        &gw,
        "/backchannel/authentication",
        "application/json",
        br#"{"scope":"openid"}"#.to_vec(),
    )
    .await;
    assert_invalid_request(&reply, 400);
    assert_authlete_not_called(&gw).await;
}

#[actix_web::test]
async fn a_charset_other_than_utf8_is_refused() {
    let gw = TestGateway::start().await;
    let reply = post_raw(
        &gw,
        "/token",
        "application/x-www-form-urlencoded; charset=ISO-8859-1",
        b"grant_type=x".to_vec(),
    )
    .await;
    assert_invalid_request(&reply, 400);
    assert_authlete_not_called(&gw).await;
}

#[actix_web::test]
async fn bad_percent_encoding_and_invalid_utf8_are_refused() {
    let gw = TestGateway::start().await;
    for body in [
        b"scope=%zz".to_vec(),
        b"scope=%C3%28".to_vec(),
        vec![b's', b'=', 0xff],
    ] {
        let reply = post_raw(
            &gw,
            "/backchannel/authentication",
            "application/x-www-form-urlencoded",
            body,
        )
        .await;
        assert_invalid_request(&reply, 400);
    }
    assert_authlete_not_called(&gw).await;
}

/// A form without a single parameter is the client's error: forwarded, Authlete would take the
/// missing `parameters` for the gateway's fault and answer `INTERNAL_SERVER_ERROR` (a 500).
#[actix_web::test]
async fn a_form_without_parameters_is_refused() {
    let caller: authlete_gateway::config::IntrospectionClient =
        toml::from_str("id = \"rs\"\nsecret = \"rs-secret\"\n").unwrap();
    let gw = TestGateway::start_with(|s| s.introspection.clients = vec![caller]).await;
    let rs = basic("rs", "rs-secret");
    let client = basic("demo", "demo-secret");
    for (route, auth) in [
        ("/backchannel/authentication", &client),
        ("/token", &client),
        ("/revocation", &client),
        ("/introspection", &rs),
    ] {
        for body in ["", "&", "&&&"] {
            let reply = gw.post_form(route, body, &[("Authorization", auth)]).await;
            assert_invalid_request(&reply, 400);
            assert_eq!(
                reply.json()["error_description"],
                "the request has no parameters",
                "{route} {body:?}"
            );
        }
    }
    assert_authlete_not_called(&gw).await;
}

#[actix_web::test]
async fn media_types_compare_case_insensitively() {
    let gw = TestGateway::start().await;
    gw.answer(
        "auth/token",
        json!({"action": "BAD_REQUEST", "responseContent": "{\"error\":\"invalid_grant\"}"}),
    )
    .await;
    let reply = post_raw(
        &gw,
        "/token",
        "Application/X-WWW-Form-Urlencoded; Charset=\"UTF-8\"",
        b"grant_type=x".to_vec(),
    )
    .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json(), json!({"error": "invalid_grant"}));
}

/// The limit is `server.max_body_bytes` exactly, whether the body's length is declared or it
/// arrives in chunks.
#[actix_web::test]
async fn a_body_of_the_limit_passes_and_one_byte_more_gets_413() {
    let gw = TestGateway::start_with(|s| s.server.max_body_bytes = 64).await;
    gw.answer(
        "backchannel/authentication",
        json!({"action": "BAD_REQUEST", "responseContent": "{\"error\":\"invalid_request\"}"}),
    )
    .await;
    let hint = |len: usize| format!("scope=openid&login_hint={}", "a".repeat(len - 24));
    let address = gw.base.trim_start_matches("http://");
    for chunked in [false, true] {
        for (len, status) in [(64, 400), (65, 413)] {
            let body = hint(len);
            let framing = if chunked {
                format!(
                    "Transfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
                    len
                )
            } else {
                format!("Content-Length: {len}\r\n\r\n{body}")
            };
            let request = format!(
                "POST /backchannel/authentication HTTP/1.1\r\nHost: {address}\r\n\
                 Authorization: Basic Y2xpZW50OnNlY3JldA==\r\nConnection: close\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\n{framing}"
            );
            let reply = raw_exchange(&gw.base, request.as_bytes()).await;
            assert_eq!(
                reply.status, status,
                "{len} bytes, chunked {chunked}: {}",
                reply.body
            );
        }
    }
    let forwarded = gw.received("backchannel/authentication").await;
    assert_eq!(
        forwarded.len(),
        2,
        "only the bodies within the limit reach Authlete"
    );
}

#[actix_web::test]
async fn an_oversized_body_gets_413() {
    let gw = TestGateway::start_with(|s| s.server.max_body_bytes = 64).await;
    let body = format!("scope=openid&login_hint={}", "a".repeat(100));
    let reply = gw
        .post_form("/backchannel/authentication", &body, &[])
        .await;
    assert_invalid_request(&reply, 413);
    assert_authlete_not_called(&gw).await;
}

#[actix_web::test]
async fn get_on_a_post_endpoint_gets_405_with_allow() {
    let gw = TestGateway::start().await;
    for route in ["/backchannel/authentication", "/token"] {
        let reply = gw.get(&format!("{}{route}", gw.base)).await;
        assert_eq!(reply.status, 405);
        reply.assert_no_store_json();
        assert_eq!(reply.header("allow"), Some("POST"));
        assert_eq!(
            reply.json(),
            json!({"error": "invalid_request", "error_description": "method not allowed"})
        );
    }
    assert_authlete_not_called(&gw).await;
}

#[actix_web::test]
async fn an_unknown_path_gets_a_json_404() {
    let gw = TestGateway::start().await;
    let reply = gw.get(&format!("{}/no/such/path", gw.base)).await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.json(), json!({"error": "not_found"}));
}

#[actix_web::test]
async fn a_valid_request_id_is_echoed_and_an_invalid_one_replaced() {
    let gw = TestGateway::start().await;
    let reply = gw
        .post_form(
            "/token",
            "a=%zz",
            &[("X-Request-Id", "abc.DEF:1+2/3=4-5_6")],
        )
        .await;
    assert_eq!(reply.header("x-request-id"), Some("abc.DEF:1+2/3=4-5_6"));
    let reply = gw
        .post_form("/token", "a=%zz", &[("X-Request-Id", "has spaces and ;")])
        .await;
    let generated = reply.header("x-request-id").unwrap_or_default();
    assert!(uuid::Uuid::parse_str(generated).is_ok(), "{generated}");
}

#[actix_web::test]
async fn routes_are_mounted_under_the_public_url_path() {
    let gw = TestGateway::start_with(|s| {
        s.server.public_url = "https://id.example.com/ciba".parse().unwrap()
    })
    .await;
    gw.answer(
        "auth/token",
        json!({"action": "BAD_REQUEST", "responseContent": "{\"error\":\"invalid_grant\"}"}),
    )
    .await;
    let reply = gw.post_form("/ciba/token", "grant_type=x", &[]).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json(), json!({"error": "invalid_grant"}));
    let unmounted = gw.post_form("/token", "grant_type=x", &[]).await;
    assert_eq!(unmounted.status, 404);
    let metrics = gw.metrics().await;
    assert_eq!(
        sample(
            &metrics,
            r#"gateway_http_requests_total{method="POST",route="/token",status="400"}"#
        ),
        1.0
    );
    assert_eq!(
        sample(
            &metrics,
            r#"gateway_http_requests_total{method="POST",route="unmatched",status="404"}"#
        ),
        1.0
    );
}
