//! Device webhook messages: Standard Webhooks headers and signatures, re-signed per attempt.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use authlete_gateway::clock::Clock;
use authlete_gateway::config::{DeviceChannel, Secret, SecretList, WebhookSettings};
use authlete_gateway::outbox::{WebhookMessage, WebhookType};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;

const SECRETS: [&str; 2] = [
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
];
const MESSAGE: &str = r#"{"type":"authentication_request","request_id":"rid-1"}"#;

fn webhook_harness(server: &MockServer) -> Harness {
    webhook_harness_at(
        &format!("{}/hook", server.uri()),
        Duration::from_millis(2000),
    )
}

/// An outbox whose device webhook is `url`, each attempt bounded by `timeout`.
pub(crate) fn webhook_harness_at(url: &str, timeout: Duration) -> Harness {
    let url = url.parse().unwrap();
    Harness::start_with(|s| {
        s.device.channel = DeviceChannel::Webhook;
        s.device.webhook = Some(WebhookSettings {
            url,
            secrets: SecretList(SECRETS.iter().map(|s| Secret::new(*s)).collect()),
            timeout,
            allow_insecure_http: true,
        });
    })
}

/// An `authentication_request` message due in ten minutes.
pub(crate) fn message(h: &Harness) -> WebhookMessage {
    WebhookMessage {
        kind: WebhookType::AuthenticationRequest,
        id: "rid-1".to_owned(),
        body: MESSAGE.to_owned(),
        deadline: h.now() + Duration::from_secs(600),
        request_id: "req-7".to_owned(),
        traceparent: None,
    }
}

/// Checks one request's signatures against every configured secret; returns its timestamp.
async fn verify(request: &wiremock::Request) -> u64 {
    support::assert_signed(request, &SECRETS).await;
    header(request, "webhook-timestamp")
        .unwrap()
        .parse()
        .unwrap()
}

#[actix_web::test]
async fn a_webhook_message_carries_id_timestamp_and_a_signature_per_secret() {
    if !support::webhook_verifier_installed() {
        return;
    }
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let h = webhook_harness(&server);
    h.outbox.send_webhook(message(&h));
    let requests = support::received_at_least(&server, 1).await;
    let request = &requests[0];
    assert_eq!(header(request, "webhook-id"), Some("rid-1"));
    assert_eq!(header(request, "x-request-id"), Some("req-7"));
    assert_eq!(header(request, "content-type"), Some("application/json"));
    assert_eq!(request.body, MESSAGE.as_bytes());
    let timestamp = verify(request).await;
    let tampered = MESSAGE.replace("rid-1", "rid-2");
    assert!(
        support::verify_webhook(request, tampered.as_bytes(), &SECRETS)
            .await
            .is_err(),
        "the verifier must reject a body that was not signed"
    );
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        timestamp.abs_diff(now) <= 5,
        "timestamp {timestamp}, now {now}"
    );
}

#[actix_web::test]
async fn a_failed_webhook_is_retried_and_re_signed_with_a_fresh_timestamp() {
    if !support::webhook_verifier_installed() {
        return;
    }
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let h = webhook_harness(&server);
    h.outbox.send_webhook(message(&h));
    support::received_at_least(&server, 1).await;
    // The retry waits the second the receiver asked for; the clock moves well past it.
    h.advance_once_waiting(Duration::from_secs(30)).await;
    let requests = support::received_at_least(&server, 2).await;
    let first = verify(&requests[0]).await;
    let second = verify(&requests[1]).await;
    assert_eq!(second, first + 30);
    assert_eq!(header(&requests[1], "webhook-id"), Some("rid-1"));
    h.outbox.drain(Duration::from_secs(5)).await;
    assert_eq!(
        received(&server).await.len(),
        2,
        "accepted: no further attempt"
    );
}

#[actix_web::test]
async fn webhook_retries_stop_at_the_message_deadline() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400))
        .mount(&server)
        .await;
    let h = webhook_harness(&server);
    let mut message = message(&h);
    message.deadline = h.clock.now() + Duration::from_secs(60);
    h.outbox.send_webhook(message);
    h.end_backoff().await;
    support::received_at_least(&server, 2).await;
    h.clock.advance(Duration::from_secs(61));
    // Drain returns once the delivery has ended, long before its own minute is up: no attempt
    // can follow.
    let drained = actix_rt::time::timeout(
        Duration::from_secs(10),
        h.outbox.drain(Duration::from_secs(60)),
    )
    .await;
    assert!(drained.is_ok(), "the delivery went on past its deadline");
    let attempts = received(&server).await.len() as f64;
    assert_eq!(
        h.series(r#"gateway_webhook_attempts_total{result="4xx"}"#),
        attempts
    );
    let failed =
        r#"gateway_webhook_messages_total{outcome="failed",type="authentication_request"}"#;
    assert_eq!(h.series(failed), 1.0);
}

#[actix_web::test]
async fn a_delivered_webhook_message_is_counted_once_with_each_attempt_by_result() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let h = webhook_harness(&server);
    let mut cancel = message(&h);
    cancel.kind = WebhookType::Cancelled;
    h.outbox.send_webhook(cancel);
    support::received_at_least(&server, 1).await;
    h.end_backoff().await;
    let delivered = r#"gateway_webhook_messages_total{outcome="delivered",type="cancelled"}"#;
    support::eventually("the message counted delivered", || async {
        h.series(delivered) == 1.0
    })
    .await;
    assert_eq!(
        h.series(r#"gateway_webhook_attempts_total{result="5xx"}"#),
        1.0
    );
    assert_eq!(
        h.series(r#"gateway_webhook_attempts_total{result="2xx"}"#),
        1.0
    );
    let failed = r#"gateway_webhook_messages_total{outcome="failed",type="cancelled"}"#;
    assert_eq!(h.series(failed), 0.0);
}

#[actix_web::test]
async fn a_shutdown_that_gives_up_counts_the_queued_webhook_message_abandoned() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let h = webhook_harness(&server);
    h.outbox.send_webhook(message(&h));
    support::received_at_least(&server, 1).await;
    // The retry waits on the manual clock, which does not move: the drain gives up.
    h.outbox.drain(Duration::from_millis(200)).await;
    let abandoned =
        r#"gateway_webhook_messages_total{outcome="abandoned",type="authentication_request"}"#;
    assert_eq!(h.series(abandoned), 1.0);
    // A message offered once the shutdown began is abandoned at once.
    h.outbox.send_webhook(message(&h));
    assert_eq!(h.series(abandoned), 2.0);
}

#[actix_web::test]
async fn a_message_past_its_deadline_is_not_sent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let h = webhook_harness(&server);
    let mut message = message(&h);
    message.deadline = h.clock.now() - Duration::from_secs(1);
    h.outbox.send_webhook(message);
    h.outbox.drain(Duration::from_secs(5)).await;
    assert!(received(&server).await.is_empty());
}

#[test]
fn an_http_webhook_url_is_refused_without_allow_insecure_http() {
    let mut settings = super::settings();
    settings.device.channel = DeviceChannel::Webhook;
    settings.device.webhook = Some(WebhookSettings {
        url: "http://device.example.com/hook".parse().unwrap(),
        secrets: SecretList(vec![Secret::new(SECRETS[0])]),
        timeout: Duration::from_millis(2000),
        allow_insecure_http: false,
    });
    let clock = std::sync::Arc::new(authlete_gateway::clock::SystemClock);
    let built = Outbox::new(
        &settings,
        authlete_gateway::startup::metrics(&settings),
        clock,
        None,
        None,
    );
    assert!(built.err().is_some_and(|e| e.contains("https")));
}
