//! Trace context (SPEC §13) and structured logs (SPEC §11): an incoming `traceparent` is
//! continued to Authlete, a missing one starts a trace, and JSON log lines carry their fields
//! as fields.

use serde_json::{json, Value};
use wiremock::ResponseTemplate;

use crate::support::*;

const INCOMING: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// The `traceparent` Authlete received, split into (trace id, parent span id, flags).
fn parts(value: &str) -> (String, String, String) {
    let p: Vec<&str> = value.split('-').collect();
    assert_eq!(p.len(), 4, "{value}");
    assert_eq!(p[0], "00", "{value}");
    (p[1].to_owned(), p[2].to_owned(), p[3].to_owned())
}

async fn traceparent_seen_by_authlete(headers: &[(&str, &str)]) -> String {
    let gw = TestGateway::start().await;
    answer(
        &gw.authlete,
        "backchannel/authentication",
        ResponseTemplate::new(200).set_body_json(json!({
            "action": "BAD_REQUEST", "resultCode": "A1", "resultMessage": "m",
            "responseContent": "{\"error\":\"invalid_request\"}"
        })),
    )
    .await;
    let reply = gw
        .post_form(
            "/backchannel/authentication",
            "scope=openid&login_hint=alice",
            headers,
        )
        .await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    let requests = gw.received_requests("backchannel/authentication").await;
    assert_eq!(requests.len(), 1);
    requests[0]
        .headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .expect("Authlete got a traceparent")
}

#[actix_web::test]
async fn an_incoming_traceparent_is_continued_to_authlete() {
    let auth = basic("client", "secret");
    let headers = [("traceparent", INCOMING), ("Authorization", auth.as_str())];
    let (trace, parent, flags) = parts(&traceparent_seen_by_authlete(&headers).await);
    assert_eq!(trace, TRACE_ID);
    assert_ne!(
        parent, "00f067aa0ba902b7",
        "the gateway's own span is the parent"
    );
    assert_eq!(flags, "01");
}

#[actix_web::test]
async fn a_request_without_traceparent_starts_a_trace_that_reaches_authlete() {
    let auth = basic("client", "secret");
    let malformed = [
        (
            "traceparent",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        ),
        ("Authorization", auth.as_str()),
    ];
    let (trace, parent, _) = parts(&traceparent_seen_by_authlete(&malformed).await);
    assert_ne!(trace, "0".repeat(32));
    assert_eq!(trace.len(), 32);
    assert_eq!(parent.len(), 16);
    let (fresh, _, _) = parts(&traceparent_seen_by_authlete(&[("Authorization", &auth)]).await);
    assert_ne!(fresh, trace, "each request starts its own trace");
}

fn json_config() -> String {
    embedded_config_head("")
        + r#"
[[emulator.clients]]
client_id = "poll-client"
client_secret = "poll-secret"
delivery_mode = "poll"

[log]
level = "info"
format = "json"
"#
}

/// The first line whose JSON `target` is `target` and that satisfies `also`.
pub(crate) async fn wait_for_line(
    lines: &Lines,
    target: &str,
    also: impl Fn(&Value) -> bool,
) -> Value {
    eventually(&format!("a {target} log line"), || {
        let found = lines.snapshot().iter().find_map(|line| {
            let value: Value = serde_json::from_str(line).ok()?;
            (value["target"] == target && also(&value)).then_some(value)
        });
        std::future::ready(found)
    })
    .await
}

#[actix_web::test]
async fn json_logs_carry_the_access_fields_as_fields_and_name_the_version_first() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, json_config()).unwrap();
    let (_child, public, _admin, lines) = GatewayProcess::spawn_logged(&path);
    let reply = client()
        .post(format!("{public}/backchannel/authentication"))
        .insert_header(("Authorization", basic("poll-client", "poll-secret")))
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .insert_header(("X-Request-Id", "log-test-1"))
        .insert_header(("traceparent", INCOMING))
        .send_body("scope=openid&login_hint=alice%40example.com")
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 200);
    let access = wait_for_line(&lines, "access", |v| v["request_id"] == "log-test-1").await;
    assert_eq!(access["level"], "INFO");
    assert_eq!(access["trace_id"], TRACE_ID);
    assert_eq!(access["route"], "/backchannel/authentication");
    assert_eq!(access["method"], "POST");
    assert_eq!(access["status"], 200);
    assert!(access["latency_ms"].is_number(), "{access}");
    assert_eq!(access["client_ip"], "127.0.0.1");
    assert!(access["ts"].is_string());
    let message = access["message"].as_str().unwrap();
    assert!(
        !message.contains("log-test-1"),
        "fields are not text: {message}"
    );
    let handed = wait_for_line(&lines, "ciba", |v| v["request_id"] == "log-test-1").await;
    assert_eq!(handed["trace_id"], TRACE_ID);
    assert!(handed["ciba_request_id"]
        .as_str()
        .is_some_and(|s| !s.is_empty()));
    let all = lines.snapshot();
    let first: Value = serde_json::from_str(&all[0]).expect("every line is JSON");
    assert_eq!(first["version"], env!("CARGO_PKG_VERSION"), "{first}");
    for line in &all {
        let value: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(value["message"].is_string(), "{line}");
        assert!(!line.contains("poll-secret"), "{line}");
        assert!(
            !line.contains("alice@example.com"),
            "hints are never logged: {line}"
        );
    }
}
