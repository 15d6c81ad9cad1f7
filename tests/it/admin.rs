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
    assert_eq!(sample_or_zero(&gw.metrics().await, series), 0.0);
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
    assert_eq!(
        sample(
            &metrics,
            r#"gateway_http_request_duration_seconds_count{route="/backchannel/authentication",status_class="4xx"}"#
        ),
        1.0
    );
}

/// The routes whose latency series are exported at 0 are the routes served: each answers a
/// method it does not take with 405 under its own `route` label.
#[actix_web::test]
async fn every_route_exported_in_advance_is_a_route_the_gateway_serves() {
    let gw = TestGateway::start().await;
    let before = gw.metrics().await;
    for route in authlete_gateway::endpoints::PUBLIC.iter().map(|r| r.path) {
        for class in ["2xx", "3xx", "4xx", "5xx"] {
            let series = format!(
                r#"gateway_http_request_duration_seconds_count{{route="{route}",status_class="{class}"}}"#
            );
            assert_eq!(sample(&before, &series), 0.0, "{series}");
        }
        let reply = gw.send("DELETE", route, &[], None).await;
        assert_eq!(reply.status, 405, "{route}");
    }
    let after = gw.metrics().await;
    for route in authlete_gateway::endpoints::PUBLIC.iter().map(|r| r.path) {
        let series = format!(
            r#"gateway_http_requests_total{{method="other",route="{route}",status="405"}}"#
        );
        assert_eq!(sample(&after, &series), 1.0, "{series}");
    }
}

/// SPEC §8: the histograms' buckets reach the longest configured timeout, so the slowest call
/// a timeout allows is told apart from one that hung.
#[actix_web::test]
async fn histogram_buckets_reach_the_longest_configured_timeout() {
    let gw = TestGateway::start_with(|s| {
        s.authlete.connect_timeout = std::time::Duration::from_secs(2);
        s.authlete.complete_timeout = std::time::Duration::from_secs(45);
        s.ciba.max_request_lifetime = std::time::Duration::from_secs(7200);
    })
    .await;
    let metrics = gw.metrics().await;
    // Connect and request timeouts add up: 2 s + 45 s.
    let top = r#"gateway_authlete_request_duration_seconds_bucket{api="complete",le="47"}"#;
    assert_eq!(sample(&metrics, top), 0.0);
    let delivery = r#"gateway_notification_duration_seconds_bucket{mode="ping",le="7200"}"#;
    assert_eq!(sample(&metrics, delivery), 0.0);
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

/// SPEC §8: a restarted gateway's first event is seen by `increase()` only if its series was
/// already there at 0. (Discovery is left out: the start-up check may have fetched it.)
#[actix_web::test]
async fn every_series_known_in_advance_is_exported_at_zero_from_the_start() {
    let gw = TestGateway::start().await;
    let metrics = gw.metrics().await;
    let zero = |series: String| assert_eq!(sample(&metrics, &series), 0.0, "{series}");
    let answered = [
        ("backchannel_authentication", "USER_IDENTIFICATION"),
        ("issue", "INVALID_TICKET"),
        ("fail", "FORBIDDEN"),
        ("complete", "NOTIFICATION"),
        ("token", "ID_TOKEN_REISSUABLE"),
        ("introspection", "JWT"),
        ("revocation", "INVALID_CLIENT"),
        ("userinfo", "UNAUTHORIZED"),
        ("userinfo_issue", "JSON"),
        ("jwks", "OK"),
    ];
    for (api, action) in answered {
        zero(format!(
            r#"gateway_authlete_requests_total{{action="{action}",api="{api}"}}"#
        ));
        for failure in ["http_error", "transport_error", "unknown"] {
            zero(format!(
                r#"gateway_authlete_requests_total{{action="{failure}",api="{api}"}}"#
            ));
        }
    }
    for reason in [
        "EXPIRED_LOGIN_HINT_TOKEN",
        "UNKNOWN_USER_ID",
        "UNAUTHORIZED_CLIENT",
        "MISSING_USER_CODE",
        "INVALID_USER_CODE",
        "INVALID_BINDING_MESSAGE",
        "INVALID_TARGET",
        "ACCESS_DENIED",
        "SERVER_ERROR",
        "USER_CODE_LOCKED",
    ] {
        zero(format!(
            r#"gateway_backchannel_failures_total{{reason="{reason}"}}"#
        ));
    }
    for decision in ["approve", "deny", "fail", "timeout", "late", "unknown"] {
        zero(format!(
            r#"gateway_device_decisions_total{{decision="{decision}"}}"#
        ));
    }
    for mode in ["ping", "push"] {
        for outcome in ["delivered", "failed", "blocked", "abandoned", "lost"] {
            zero(format!(
                r#"gateway_notifications_total{{mode="{mode}",outcome="{outcome}"}}"#
            ));
        }
        for result in ["2xx", "3xx", "4xx", "5xx", "timeout", "connect_error"] {
            zero(format!(
                r#"gateway_notification_attempts_total{{mode="{mode}",result="{result}"}}"#
            ));
        }
    }
    for kind in ["authentication_request", "cancelled"] {
        for outcome in ["delivered", "failed", "abandoned"] {
            zero(format!(
                r#"gateway_webhook_messages_total{{outcome="{outcome}",type="{kind}"}}"#
            ));
        }
    }
    for result in ["2xx", "3xx", "4xx", "5xx", "timeout", "connect_error"] {
        zero(format!(
            r#"gateway_webhook_attempts_total{{result="{result}"}}"#
        ));
    }
    for result in ["hit", "miss", "stale"] {
        zero(format!(
            r#"gateway_cache_requests_total{{cache="jwks",result="{result}"}}"#
        ));
    }
    for kind in ["notification", "webhook"] {
        for metric in [
            "gateway_outbox_depth",
            "gateway_outbox_in_flight",
            "gateway_outbox_reclaimed_total",
        ] {
            zero(format!(r#"{metric}{{kind="{kind}"}}"#));
        }
    }
    for op in ["outbox_enqueue", "outbox_claim", "outbox_hand_back"] {
        zero(format!(
            r#"gateway_state_operations_total{{op="{op}",result="ok"}}"#
        ));
    }
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

/// The JSON rule is for the routes that take a POST: a method a guarded resource does not
/// serve gets 405 and its `Allow`, whatever the body's type; a wrong `Host` is still 421.
#[actix_web::test]
async fn a_method_a_guarded_route_does_not_serve_gets_405_whatever_the_body() {
    let gw = TestGateway::start().await;
    for (path, allow) in [
        ("/console", "GET"),
        ("/console/app.js", "GET"),
        ("/console/requests", "GET"),
    ] {
        let reply = admin_request(&gw, "POST", path, "localhost", Some("text/plain")).await;
        assert_eq!(reply.status, 405, "POST {path}: {}", reply.body);
        assert_eq!(reply.header("allow"), Some(allow), "POST {path}");
        let reply = admin_request(&gw, "POST", path, "evil.example", Some("text/plain")).await;
        assert_eq!(reply.status, 421, "POST {path}");
    }
    let reply = admin_request(&gw, "PUT", "/cache/purge", "localhost", Some("text/plain")).await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("POST"));
    let reply = admin_request(&gw, "POST", "/console/notifications", "localhost", None).await;
    assert_eq!(reply.status, 415, "the sink takes JSON");
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

#[actix_web::test]
async fn a_host_with_junk_after_an_ip_literal_is_not_loopback() {
    let gw = TestGateway::start().await;
    for host in [
        "[::1]evil",
        "[::1]:9464evil",
        "127.0.0.1:1:2",
        "127.0.0.1 evil.example",
    ] {
        let reply = admin_request(&gw, "GET", "/console/requests", host, None).await;
        assert_eq!(reply.status, 421, "{host}");
    }
    let reply = admin_request(&gw, "GET", "/console/requests", "[::1]:9464", None).await;
    assert_eq!(reply.status, 200);
}

#[actix_web::test]
async fn console_body_errors_carry_the_oauth_json_body() {
    let gw = TestGateway::start().await;
    for path in ["/console/decisions", "/console/notifications"] {
        let mut response = client()
            .post(format!("{}{path}", gw.admin))
            .insert_header(("Content-Type", "application/json"))
            .send_body(vec![b'a'; 300 * 1024])
            .await
            .unwrap();
        let body = response.body().await.unwrap_or_default();
        assert_eq!(response.status(), 413, "{path}");
        assert_eq!(
            response.headers().get("content-type").unwrap(),
            "application/json"
        );
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"], "invalid_request", "{path}");
    }
}
