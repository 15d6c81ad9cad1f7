//! Forwarding headers (`X-Forwarded-*`, `Forwarded`, `X-Real-IP`) build no URL and pass no admin
//! check, whoever sends them; the client IP in the logs follows `X-Forwarded-For` only from a
//! peer in `server.trusted_proxies` (SPEC §3).

use serde_json::Value;

use crate::delivery::{gateway_with, PING};
use crate::support::*;
use crate::tracing::wait_for_line;
use crate::webhook::webhook_channel;

/// The forwarding headers a proxy, or anyone pretending to be one, may send; `evil` is where
/// they point.
fn forwarding(evil: &str) -> Vec<(&'static str, String)> {
    vec![
        ("X-Forwarded-For", "198.51.100.66".into()),
        ("X-Forwarded-Host", evil.into()),
        ("X-Forwarded-Proto", "http".into()),
        ("X-Forwarded-Port", "6666".into()),
        ("X-Forwarded-Prefix", "/evil".into()),
        (
            "Forwarded",
            format!("for=198.51.100.67;host={evil};proto=http"),
        ),
        ("X-Real-IP", "198.51.100.68".into()),
        ("X-Original-URL", "/evil".into()),
    ]
}

fn borrowed<'a>(headers: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    headers.iter().map(|(n, v)| (*n, v.as_str())).collect()
}

/// Every string in `value`, however deep.
fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().flat_map(strings).collect(),
        Value::Object(members) => members.values().flat_map(strings).collect(),
        _ => Vec::new(),
    }
}

/// From an untrusted and from a trusted peer alike: discovery's URLs, the device's
/// `decision_url` and the ping notification's target come from the configuration and the
/// client's registration, never from the request's headers.
#[actix_web::test]
async fn forwarding_headers_from_any_peer_build_no_url() {
    for trusted in ["10.0.0.0/8", "127.0.0.0/8"] {
        let (notified, evil, device) = (
            receiver(204).await,
            receiver(204).await,
            receiver(204).await,
        );
        let evil_host = evil.address().to_string();
        let gw = gateway_with(&notified, |s| {
            webhook_channel(s, &device);
            s.server.trusted_proxies = vec![trusted.parse().unwrap()];
        })
        .await;
        let spoofed = forwarding(&evil_host);
        let mut headers = borrowed(&spoofed);
        headers.push(("Host", &evil_host));

        let discovery = gw
            .send("GET", "/.well-known/openid-configuration", &headers, None)
            .await;
        assert_eq!(discovery.status, 200, "{}", discovery.body);
        let metadata = discovery.json();
        assert_eq!(metadata["issuer"], "https://as.example.com", "{trusted}");
        let urls: Vec<&str> = strings(&metadata)
            .into_iter()
            .filter(|s| s.contains("://"))
            .collect();
        assert!(urls.len() > 3, "{urls:?}");
        for url in urls {
            let ours =
                url == "https://as.example.com" || url.starts_with("https://as.example.com/");
            assert!(ours, "{trusted}: {url}");
        }

        let basic = basic(PING.0, PING.1);
        let mut with_credentials = headers.clone();
        with_credentials.push(("Authorization", &basic));
        let ack = gw
            .post_form(
                "/backchannel/authentication",
                "scope=openid&login_hint=alice%40example.com&client_notification_token=nt-1",
                &with_credentials,
            )
            .await;
        assert_eq!(ack.status, 200, "{}", ack.body);
        let message = &received_at_least(&device, 1).await[0];
        let message: Value = serde_json::from_slice(&message.body).unwrap();
        assert_eq!(
            message["decision_url"], "https://as.example.com/device/decisions",
            "{trusted}"
        );
        let token = message["decision_token"].as_str().unwrap();
        let bearer = format!("Bearer {token}");
        let mut with_token = headers.clone();
        with_token.push(("Authorization", &bearer));
        with_token.push(("Content-Type", "application/json"));
        let decided = gw
            .send(
                "POST",
                "/device/decisions",
                &with_token,
                Some(r#"{"decision":"approve"}"#),
            )
            .await;
        assert_eq!(decided.status, 204, "{}", decided.body);
        let notification = &received_at_least(&notified, 1).await[0];
        assert_eq!(notification.url.path(), "/cb");
        assert_eq!(
            serde_json::from_slice::<Value>(&notification.body).unwrap()["auth_req_id"],
            ack.json()["auth_req_id"]
        );
        assert!(
            evil.received_requests()
                .await
                .unwrap_or_default()
                .is_empty(),
            "{trusted}: the forwarded host was called"
        );
        gw.stop().await;
    }
}

/// The admin guard reads the `Host` header (and an absolute-form target), never a forwarded
/// host or address, even from a trusted proxy.
#[actix_web::test]
async fn forwarding_headers_do_not_pass_the_admin_host_check() {
    let gw = TestGateway::start_with(|s| {
        s.server.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    let get = |headers: Vec<&'static str>| {
        let admin = gw.admin.clone();
        async move {
            raw_request(&admin, "GET", b"/console/requests", &headers, None)
                .await
                .status
        }
    };
    for spoof in [
        "X-Forwarded-Host: localhost",
        "X-Forwarded-Host: 127.0.0.1",
        "Forwarded: host=localhost",
        "Forwarded: for=127.0.0.1;host=127.0.0.1",
        "X-Forwarded-For: 127.0.0.1",
        "X-Real-IP: 127.0.0.1",
        "X-Original-Host: localhost",
    ] {
        assert_eq!(
            get(vec!["Host: rebind.evil.example", spoof]).await,
            421,
            "{spoof}"
        );
    }
    let evil = vec![
        "Host: localhost",
        "X-Forwarded-Host: rebind.evil.example",
        "Forwarded: for=203.0.113.9;host=rebind.evil.example",
        "X-Forwarded-For: 203.0.113.9",
    ];
    assert_eq!(get(evil).await, 200);
}

fn logged_config(trusted_proxies: &str) -> String {
    embedded_config_head(&format!("trusted_proxies = {trusted_proxies}"))
        + r#"
[log]
level = "info"
format = "json"
"#
}

/// Sends discovery with `headers` and `X-Request-Id: id`; the client IP its access line logged.
async fn logged_client_ip(
    public: &str,
    lines: &Lines,
    id: &str,
    headers: &[(&str, &str)],
) -> Value {
    let mut request = client()
        .get(format!("{public}/.well-known/openid-configuration"))
        .insert_header(("X-Request-Id", id));
    for (name, value) in headers {
        request = request.append_header((*name, *value));
    }
    assert_eq!(request.send().await.unwrap().status(), 200);
    let access = wait_for_line(lines, "access", |v| v["request_id"] == id).await;
    access["client_ip"].clone()
}

#[actix_web::test]
async fn the_logged_client_ip_follows_x_forwarded_for_only_from_a_trusted_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let spoofed = forwarding("evil.example");
    let spoofed = borrowed(&spoofed);

    let untrusted = dir.path().join("untrusted.toml");
    std::fs::write(&untrusted, logged_config(r#"["10.0.0.0/8"]"#)).unwrap();
    let (_child, public, _admin, lines) = GatewayProcess::spawn_logged(&untrusted);
    let ip = logged_client_ip(&public, &lines, "untrusted-1", &spoofed).await;
    assert_eq!(ip, "127.0.0.1");

    let trusted = dir.path().join("trusted.toml");
    std::fs::write(&trusted, logged_config(r#"["127.0.0.0/8", "10.0.0.0/8"]"#)).unwrap();
    let (_child, public, _admin, lines) = GatewayProcess::spawn_logged(&trusted);
    let ip = logged_client_ip(&public, &lines, "trusted-1", &spoofed).await;
    assert_eq!(ip, "198.51.100.66", "the trusted proxy's X-Forwarded-For");
    // The rightmost address that is not a trusted proxy; later header lines are further right.
    let chain = [
        ("X-Forwarded-For", "203.0.113.1, 198.51.100.7"),
        ("X-Forwarded-For", "10.1.2.3"),
    ];
    let ip = logged_client_ip(&public, &lines, "trusted-2", &chain).await;
    assert_eq!(ip, "198.51.100.7");
    // Only X-Forwarded-For is read: `Forwarded` and `X-Real-IP` leave the peer.
    let others = [
        ("Forwarded", "for=198.51.100.67"),
        ("X-Real-IP", "198.51.100.68"),
    ];
    let ip = logged_client_ip(&public, &lines, "trusted-3", &others).await;
    assert_eq!(ip, "127.0.0.1");
    for line in lines.snapshot() {
        assert!(!line.contains("evil.example"), "{line}");
    }
}
