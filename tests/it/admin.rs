//! The admin listener: metrics that move, liveness and readiness.

use serde_json::json;

use crate::support::*;

#[actix_web::test]
async fn request_metrics_move_after_a_request() {
    let gw = TestGateway::start().await;
    gw.answer(
        "backchannel/authentication",
        json!({"action": "BAD_REQUEST", "responseContent": "{\"error\":\"invalid_request\"}"}),
    )
    .await;
    let series = r#"gateway_http_requests_total{method="POST",route="/backchannel/authentication",status="400"}"#;
    assert_eq!(sample(&gw.metrics().await, series), 0.0);
    gw.post_form("/backchannel/authentication", "scope=openid", &[])
        .await;
    let metrics = gw.metrics().await;
    assert_eq!(sample(&metrics, series), 1.0);
    assert_eq!(
        sample(
            &metrics,
            r#"gateway_authlete_requests_total{action="BAD_REQUEST",api="backchannel_authentication"}"#
        ),
        1.0
    );
    assert_eq!(
        sample(
            &metrics,
            r#"gateway_authlete_request_duration_seconds_count{api="backchannel_authentication"}"#
        ),
        1.0
    );
}

#[actix_web::test]
async fn metrics_are_prometheus_text() {
    let gw = TestGateway::start().await;
    let reply = gw.get(&format!("{}/metrics", gw.admin)).await;
    assert_eq!(reply.status, 200);
    assert!(reply
        .header("content-type")
        .is_some_and(|ct| ct.starts_with("text/plain")));
    assert!(reply
        .body
        .contains("# TYPE gateway_slow_down_total counter"));
}

#[actix_web::test]
async fn health_and_readiness_answer_200_while_running() {
    let gw = TestGateway::start().await;
    let health = gw.get(&format!("{}/healthz", gw.admin)).await;
    assert_eq!(health.status, 200);
    let ready = gw.get(&format!("{}/readyz", gw.admin)).await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.json(), json!({"status": "ready"}));
}

#[actix_web::test]
async fn the_public_listener_stops_serving_after_shutdown() {
    let gw = TestGateway::start().await;
    gw.stop().await;
    let result = client()
        .post(format!("{}/token", gw.base))
        .send_body("grant_type=x")
        .await;
    assert!(result.is_err(), "the listener still answered");
}

async fn admin_request(
    gw: &TestGateway,
    method: &str,
    path: &str,
    host: &str,
    ct: Option<&str>,
) -> Reply {
    let mut request = client()
        .request(
            method.parse().unwrap_or_default(),
            format!("{}{path}", gw.admin),
        )
        .insert_header(("Host", host));
    if let Some(ct) = ct {
        request = request.insert_header(("Content-Type", ct));
    }
    let mut response = request
        .send_body("{}")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let body = response.body().await.unwrap_or_default();
    Reply {
        status: response.status(),
        headers: response.headers().clone(),
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

#[actix_web::test]
async fn console_and_purge_refuse_a_foreign_host_with_421() {
    let gw = TestGateway::start().await;
    for (method, path) in [
        ("GET", "/console"),
        ("GET", "/console/requests"),
        ("POST", "/cache/purge"),
    ] {
        let reply = admin_request(
            &gw,
            method,
            path,
            "rebind.evil.example",
            Some("application/json"),
        )
        .await;
        assert_eq!(reply.status, 421, "{method} {path}");
        assert_eq!(reply.json(), json!({"error": "misdirected_request"}));
    }
}

#[actix_web::test]
async fn state_changing_admin_requests_must_be_json() {
    let gw = TestGateway::start_with(|s| s.admin.allowed_hosts = vec!["ops.internal".into()]).await;
    let reply = admin_request(
        &gw,
        "POST",
        "/cache/purge",
        "ops.internal:9464",
        Some("text/plain"),
    )
    .await;
    assert_eq!(reply.status, 415);
    assert_eq!(reply.json(), json!({"error": "invalid_request"}));
}

#[actix_web::test]
async fn probes_and_metrics_accept_any_host() {
    let gw = TestGateway::start().await;
    for path in ["/metrics", "/healthz", "/readyz"] {
        for method in ["GET", "HEAD"] {
            let reply = admin_request(&gw, method, path, "10.1.2.3:9464", None).await;
            assert_eq!(reply.status, 200, "{method} {path}");
        }
    }
}
