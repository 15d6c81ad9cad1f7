//! SIGTERM on the real process: queued notifications are delivered before it exits, and it
//! exits 0.

use std::process::Command;
use std::time::Duration;

use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

const NOTIFICATIONS: usize = 3;

fn config(receiver: &str) -> String {
    embedded_config_head("shutdown_timeout_secs = 15\n")
        + &format!(
            r#"
[notifications]
allowed_networks = ["127.0.0.0/8"]
allow_insecure_http = true
max_in_flight = 1

[[emulator.clients]]
client_id = "ping-client"
client_secret = "ping-secret"
delivery_mode = "ping"
notification_endpoint = "{receiver}/cb"

[log]
level = "info"
"#
        )
}

#[actix_web::test]
async fn sigterm_delivers_queued_notifications_before_exiting() {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(204).set_delay(Duration::from_millis(300)))
        .mount(&receiver)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, config(&receiver.uri())).unwrap();
    let (mut child, public, admin) = GatewayProcess::spawn(&path);
    let http = client();
    for _ in 0..NOTIFICATIONS {
        let reply = http
            .post(format!("{public}/backchannel/authentication"))
            .insert_header(("Authorization", basic("ping-client", "ping-secret")))
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .send_body("scope=openid&login_hint=alice%40example.com&client_notification_token=tok")
            .await
            .unwrap();
        assert_eq!(reply.status(), 200);
    }
    let mut feed = http
        .get(format!("{admin}/console/requests"))
        .send()
        .await
        .unwrap();
    let entries: serde_json::Value = serde_json::from_slice(&feed.body().await.unwrap()).unwrap();
    for entry in entries.as_array().unwrap() {
        let decided = http
            .post(format!("{admin}/console/decisions"))
            .insert_header(("Content-Type", "application/json"))
            .send_body(
                json!({"request_id": entry["request_id"], "decision": "approve"}).to_string(),
            )
            .await
            .unwrap();
        assert_eq!(decided.status(), 204);
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = eventually("the gateway to exit after SIGTERM", || {
        std::future::ready(child.0.try_wait().unwrap())
    })
    .await;
    assert!(status.success(), "exit status {status:?}");
    let delivered = receiver.received_requests().await.unwrap_or_default();
    assert_eq!(delivered.len(), NOTIFICATIONS);
}
