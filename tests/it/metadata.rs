//! Discovery and JWKS through the metadata cache: one Authlete call for concurrent misses,
//! stale copies while Authlete fails, ETags, HEAD, CORS, purge and the mismatch gauge.

use std::time::Duration;

use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

const DISCOVERY: &str = "/.well-known/openid-configuration";
const PUBLIC_URL: &str = "https://as.example.com";

fn discovery(issuer: &str) -> Value {
    let endpoint = |route: &str| format!("{PUBLIC_URL}{route}");
    json!({
        "issuer": issuer,
        "backchannel_authentication_endpoint": endpoint("/backchannel/authentication"),
        "token_endpoint": endpoint("/token"),
        "jwks_uri": endpoint("/jwks"),
        "introspection_endpoint": endpoint("/introspection"),
        "revocation_endpoint": endpoint("/revocation"),
        "userinfo_endpoint": endpoint("/userinfo"),
        "backchannel_token_delivery_modes_supported": ["poll"]
    })
}

async fn serve_get(server: &MockServer, api: &str, template: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(api_path(api)))
        .respond_with(template)
        .mount(server)
        .await;
}

/// A gateway whose Authlete serves `doc` as discovery (mounted before start).
async fn gateway_serving(
    doc: ResponseTemplate,
    adjust: impl FnOnce(&mut authlete_gateway::config::Settings),
) -> TestGateway {
    let authlete = MockServer::start().await;
    serve_get(&authlete, "service/configuration", doc).await;
    TestGateway::start_on(authlete, adjust).await
}

async fn calls(gw: &TestGateway, api: &str) -> usize {
    gw.received_requests(api).await.len()
}

async fn purge(gw: &TestGateway, host: &str) -> Reply {
    send(
        &gw.admin,
        "POST",
        "/cache/purge",
        &[("Host", host), ("Content-Type", "application/json")],
        Some("{}"),
    )
    .await
}

#[actix_web::test]
async fn a_hundred_concurrent_requests_on_a_cold_cache_cause_one_authlete_call() {
    let doc = ResponseTemplate::new(200)
        .set_body_json(discovery(PUBLIC_URL))
        .set_delay(Duration::from_millis(300));
    let gw = gateway_serving(doc, |s| s.server.workers = 2).await;
    // The start-up check fetches discovery once; purge to start from a cold cache.
    eventually("the start-up fetch", || async {
        sample(
            &gw.metrics().await,
            r#"gateway_cache_requests_total{cache="discovery",result="miss"}"#,
        ) == 1.0
    })
    .await;
    assert_eq!(purge(&gw, "127.0.0.1").await.status, 200);
    let replies =
        futures_util::future::join_all((0..100).map(|_| gw.send("GET", DISCOVERY, &[], None)))
            .await;
    assert!(replies.iter().all(|r| r.status == 200));
    let etag = replies[0].header("etag").map(str::to_owned);
    assert!(replies.iter().all(|r| r.header("etag") == etag.as_deref()));
    assert_eq!(calls(&gw, "service/configuration").await, 2);
    let metrics = gw.metrics().await;
    let miss = r#"gateway_cache_requests_total{cache="discovery",result="miss"}"#;
    let hit = r#"gateway_cache_requests_total{cache="discovery",result="hit"}"#;
    assert_eq!(sample(&metrics, miss), 2.0);
    assert_eq!(sample(&metrics, hit), 99.0);
}

#[actix_web::test]
async fn discovery_is_served_verbatim_with_public_caching_an_etag_and_open_cors() {
    let raw =
        r#"{"issuer":"https://as.example.com",  "token_endpoint":"https://as.example.com/token"}"#;
    let doc = ResponseTemplate::new(200).set_body_raw(raw, "application/json;charset=UTF-8");
    let gw = gateway_serving(doc, |_| {}).await;
    let reply = gw.send("GET", DISCOVERY, &[], None).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, raw);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.header("cache-control"), Some("public, max-age=300"));
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    let etag = reply.header("etag").unwrap_or_default().to_owned();
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && etag.len() > 10,
        "{etag}"
    );

    let again = gw
        .send("GET", DISCOVERY, &[("If-None-Match", &etag)], None)
        .await;
    assert_eq!(again.status, 304);
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    assert_eq!(again.header("cache-control"), Some("public, max-age=300"));
    assert!(again.body.is_empty());
    let other = gw
        .send("GET", DISCOVERY, &[("If-None-Match", "\"other\"")], None)
        .await;
    assert_eq!(other.status, 200);
}

#[actix_web::test]
async fn head_options_and_other_methods_follow_the_metadata_rules() {
    let doc = ResponseTemplate::new(200).set_body_json(discovery(PUBLIC_URL));
    let gw = gateway_serving(doc, |_| {}).await;
    let head = gw.send("HEAD", DISCOVERY, &[], None).await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert!(head.header("etag").is_some());
    assert_eq!(head.header("cache-control"), Some("public, max-age=300"));

    for route in [DISCOVERY, "/jwks"] {
        let options = gw.send("OPTIONS", route, &[("Origin", "https://app.example")], None);
        let options = options.await;
        assert_eq!(options.status, 204, "{route}");
        assert_eq!(options.header("access-control-allow-origin"), Some("*"));
        let post = gw.send("POST", route, &[], Some("")).await;
        assert_eq!(post.status, 405, "{route}");
        assert_eq!(post.header("allow"), Some("GET, HEAD, OPTIONS"));
        assert_eq!(post.json()["error"], "invalid_request");
    }
}

#[actix_web::test]
async fn a_stale_copy_is_served_while_authlete_fails_and_a_fresh_one_after_it_recovers() {
    let first = discovery(PUBLIC_URL);
    let doc = ResponseTemplate::new(200).set_body_json(&first);
    let gw = gateway_serving(doc, |s| s.cache.metadata_ttl = Duration::from_secs(1)).await;
    let fresh = gw.send("GET", DISCOVERY, &[], None).await;
    assert_eq!(fresh.header("cache-control"), Some("public, max-age=1"));

    gw.authlete.reset().await;
    serve_get(
        &gw.authlete,
        "service/configuration",
        ResponseTemplate::new(503),
    )
    .await;
    eventually("a stale copy", || async {
        let reply = gw.send("GET", DISCOVERY, &[], None).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.json(), first);
        reply.header("cache-control") == Some("public, max-age=0")
    })
    .await;
    let stale = r#"gateway_cache_requests_total{cache="discovery",result="stale"}"#;
    assert!(sample(&gw.metrics().await, stale) >= 1.0);

    gw.authlete.reset().await;
    let second = discovery("https://as.example.com");
    let mut second = second.as_object().cloned().unwrap_or_default();
    second.insert("scopes_supported".into(), json!(["openid"]));
    let second = Value::Object(second);
    serve_get(
        &gw.authlete,
        "service/configuration",
        ResponseTemplate::new(200).set_body_json(&second),
    )
    .await;
    let reply = gw.send("GET", DISCOVERY, &[], None).await;
    assert_eq!(reply.header("cache-control"), Some("public, max-age=1"));
    assert_eq!(reply.json(), second);
}

#[actix_web::test]
async fn without_any_copy_an_authlete_failure_gives_503_with_retry_after() {
    let down = ResponseTemplate::new(503).insert_header("Retry-After", "7");
    let gw = gateway_serving(down, |_| {}).await;
    let reply = gw.send("GET", DISCOVERY, &[], None).await;
    assert_eq!(reply.status, 503);
    reply.assert_no_store_json();
    assert_eq!(reply.json(), json!({"error": "temporarily_unavailable"}));
    assert_eq!(reply.header("retry-after"), Some("7"));
}

#[actix_web::test]
async fn jwks_without_keys_is_an_empty_set_and_purge_forces_a_refetch() {
    let gw = TestGateway::start().await;
    serve_get(&gw.authlete, "service/jwks/get", ResponseTemplate::new(204)).await;
    for _ in 0..2 {
        let reply = gw.send("GET", "/jwks", &[], None).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.json(), json!({"keys": []}));
        assert_eq!(reply.header("cache-control"), Some("public, max-age=60"));
    }
    assert_eq!(calls(&gw, "service/jwks/get").await, 1);

    assert_eq!(purge(&gw, "evil.example").await.status, 421);
    assert_eq!(purge(&gw, "localhost:9464").await.status, 200);
    gw.send("GET", "/jwks", &[], None).await;
    assert_eq!(calls(&gw, "service/jwks/get").await, 2);
}

#[actix_web::test]
async fn a_mismatching_issuer_raises_the_gauge_for_that_field_only() {
    let doc = ResponseTemplate::new(200).set_body_json(discovery("https://elsewhere.example"));
    let gw = gateway_serving(doc, |_| {}).await;
    let reply = gw.send("GET", DISCOVERY, &[], None).await;
    assert_eq!(reply.json()["issuer"], "https://elsewhere.example");
    let metrics = gw.metrics().await;
    assert_eq!(
        sample(&metrics, r#"gateway_metadata_mismatch{field="issuer"}"#),
        1.0
    );
    assert!(metrics.contains(r#"gateway_metadata_mismatch{field="token_endpoint"} 0"#));
}
