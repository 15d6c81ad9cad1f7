//! Notification delivery: what the client receives, which answers are retried, and the bounds.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use authlete_gateway::clock::{Clock, ManualClock};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::*;

async fn receiver(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/cb"))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

fn endpoint(server: &MockServer) -> String {
    format!("{}/cb", server.uri())
}

#[actix_web::test]
async fn a_ping_notification_arrives_with_bearer_token_json_type_and_verbatim_body() {
    let h = Harness::start();
    let server = receiver(ResponseTemplate::new(204)).await;
    h.send(h.notification(&endpoint(&server))).await;
    h.counted("delivered", 1.0).await;
    let requests = received(&server).await;
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(
        header(request, "authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(header(request, "content-type"), Some("application/json"));
    assert_eq!(request.body, BODY.as_bytes());
    assert!(header(request, "user-agent").is_some_and(|ua| ua.starts_with("authlete-gateway/")));
    assert!(
        h.metrics
            .render()
            .contains("gateway_notification_duration_seconds_count{mode=\"ping\"} 1"),
        "one delivery timed, from enqueue to its outcome"
    );
}

#[actix_web::test]
async fn a_receiver_failing_twice_gets_one_delivery_after_two_retries() {
    let h = Harness::start();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("thanks"))
        .mount(&server)
        .await;
    h.send(h.notification(&format!("{}/cb", server.uri())))
        .await;
    h.end_backoff().await;
    support::received_at_least(&server, 2).await;
    h.end_backoff().await;
    h.counted("delivered", 1.0).await;
    assert_eq!(received(&server).await.len(), 3);
    assert_eq!(h.attempts("ping", "5xx"), 2.0);
    assert_eq!(h.attempts("ping", "2xx"), 1.0);
    assert_eq!(h.count("ping", "delivered"), 1.0);
    assert_eq!(h.count("ping", "failed"), 0.0);
}

async fn assert_one_attempt_then_failed(template: ResponseTemplate, result: &str) {
    let h = Harness::start();
    let server = receiver(template).await;
    h.send(h.notification(&endpoint(&server))).await;
    h.counted("failed", 1.0).await;
    assert_eq!(received(&server).await.len(), 1);
    assert_eq!(h.attempts("ping", result), 1.0);
    assert_eq!(h.count("ping", "delivered"), 0.0);
}

#[actix_web::test]
async fn a_redirect_is_a_permanent_failure_and_is_not_followed() {
    let redirect = ResponseTemplate::new(302).insert_header("location", "/cb");
    assert_one_attempt_then_failed(redirect, "3xx").await;
}

#[actix_web::test]
async fn a_client_error_is_a_permanent_failure() {
    assert_one_attempt_then_failed(ResponseTemplate::new(400), "4xx").await;
}

/// Answers 429 with `Retry-After: 1` once, then 200, and records when each request came by
/// the manual clock.
struct TooManyOnce(Arc<Mutex<Vec<Instant>>>, Arc<ManualClock>);

impl Respond for TooManyOnce {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let mut seen = self.0.lock().unwrap();
        seen.push(self.1.instant());
        if seen.len() == 1 {
            ResponseTemplate::new(429).insert_header("retry-after", "1")
        } else {
            ResponseTemplate::new(200)
        }
    }
}

#[actix_web::test]
async fn an_attempt_that_finds_no_listener_counts_as_a_connect_error() {
    let h = Harness::start();
    let endpoint = format!("http://127.0.0.1:{}/cb", support::free_port());
    h.send(h.notification(&endpoint)).await;
    support::eventually("the refused attempt counted", || async {
        h.attempts("ping", "connect_error") == 1.0
    })
    .await;
    for result in ["2xx", "3xx", "4xx", "5xx", "timeout"] {
        assert_eq!(h.attempts("ping", result), 0.0, "{result}");
    }
    assert_eq!(h.count("ping", "failed"), 0.0, "retried until expiry");
}

#[actix_web::test]
async fn a_shutdown_that_gives_up_counts_the_queued_notification_abandoned() {
    let h = Harness::start();
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
    h.send(h.notification(&endpoint(&server))).await;
    support::received_at_least(&server, 1).await;
    // The retry waits on the manual clock, which does not move: the drain gives up.
    h.outbox.drain(Duration::from_millis(200)).await;
    assert_eq!(h.count("ping", "abandoned"), 1.0);
    assert_eq!(h.count("push", "abandoned"), 0.0);
    // Should the delivery still end before the process does, it is not counted twice.
    h.end_backoff().await;
    support::received_at_least(&server, 2).await;
    h.outbox.drain(Duration::from_secs(5)).await;
    assert_eq!(h.count("ping", "delivered"), 0.0);
    assert_eq!(h.count("ping", "abandoned"), 1.0);
}

#[actix_web::test]
async fn a_429_retry_after_is_honoured() {
    let h = Harness::start();
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(TooManyOnce(arrivals.clone(), h.clock.clone()))
        .mount(&server)
        .await;
    h.send(h.notification(&endpoint(&server))).await;
    // A tenth of a second per look while the delivery waits: the retry must not come before
    // the second the receiver asked for has passed.
    support::eventually("the retry", || {
        if h.clock.sleepers() > 0 {
            h.clock.advance(Duration::from_millis(100));
        }
        std::future::ready(arrivals.lock().unwrap().len() == 2)
    })
    .await;
    h.counted("delivered", 1.0).await;
    let arrivals = arrivals.lock().unwrap().clone();
    assert_eq!(arrivals.len(), 2);
    let waited = arrivals[1] - arrivals[0];
    assert!(
        waited >= Duration::from_millis(990),
        "retried after {waited:?}"
    );
    assert_eq!(h.attempts("ping", "4xx"), 1.0);
    assert_eq!(h.attempts("ping", "2xx"), 1.0);
}

#[actix_web::test]
async fn a_retry_after_beyond_the_expiry_ends_delivery_as_failed() {
    let h = Harness::start();
    let server = receiver(ResponseTemplate::new(429).insert_header("retry-after", "3600")).await;
    h.send(h.notification(&endpoint(&server))).await;
    h.counted("failed", 1.0).await;
    assert_eq!(received(&server).await.len(), 1);
}

#[actix_web::test]
async fn delivery_stops_as_failed_once_expires_at_has_passed() {
    let h = Harness::start();
    let server = receiver(ResponseTemplate::new(503)).await;
    let mut notification = h.notification(&endpoint(&server));
    notification.expires_at = h.now() + Duration::from_secs(60);
    h.send(notification).await;
    h.end_backoff().await;
    support::received_at_least(&server, 2).await;
    assert_eq!(h.count("ping", "failed"), 0.0);
    h.clock.advance(Duration::from_secs(61));
    h.counted("failed", 1.0).await;
    let attempts = received(&server).await.len();
    assert_eq!(h.attempts("ping", "5xx") as usize, attempts);
    // Timed from the enqueue to the final outcome, across the retries' waits.
    let took = h.series(r#"gateway_notification_duration_seconds_sum{mode="ping"}"#);
    assert!(took >= 61.0, "{took}");
    assert_eq!(h.count("ping", "delivered"), 0.0);
}

#[actix_web::test]
async fn an_already_expired_notification_is_counted_failed_without_an_attempt() {
    let h = Harness::start();
    let server = receiver(ResponseTemplate::new(200)).await;
    let mut notification = h.notification(&endpoint(&server));
    notification.expires_at = h.now() - Duration::from_secs(1);
    h.send(notification).await;
    h.counted("failed", 1.0).await;
    assert!(received(&server).await.is_empty());
}

#[actix_web::test]
async fn reserve_returns_none_while_queue_capacity_places_are_held() {
    let h = Harness::start_with(|s| s.notifications.queue_capacity = 2);
    let first = h.outbox.reserve().await.expect("first place");
    let second = h.outbox.reserve().await.expect("second place");
    assert!(h.outbox.reserve().await.is_none());
    drop(first);
    let third = h
        .outbox
        .reserve()
        .await
        .expect("a released place is free again");
    assert!(h.outbox.reserve().await.is_none());
    drop((second, third));
}

#[actix_web::test]
async fn a_place_stays_held_until_its_delivery_ends() {
    let h = Harness::start_with(|s| s.notifications.queue_capacity = 1);
    let server = receiver(ResponseTemplate::new(200).set_delay(Duration::from_millis(300))).await;
    h.send(h.notification(&endpoint(&server))).await;
    assert!(h.outbox.reserve().await.is_none(), "held while in flight");
    h.counted("delivered", 1.0).await;
    // Counted just before the delivery ends and gives its place back.
    support::eventually("the place to be given back after delivery", || async {
        h.outbox.reserve().await
    })
    .await;
}

#[actix_web::test]
async fn drain_delivers_queued_notifications_before_returning() {
    let h = Harness::start();
    let server = receiver(ResponseTemplate::new(200).set_delay(Duration::from_millis(200))).await;
    let slot = h.outbox.reserve().await.unwrap();
    for _ in 0..3 {
        h.send(h.notification(&endpoint(&server))).await;
    }
    // A place reserved before the shutdown (a /complete call under way) still gets its
    // notification through; nothing new is accepted once draining has begun. `join` polls
    // the drain first, so it has begun when `late` runs.
    let late = async {
        assert!(
            h.outbox.reserve().await.is_none(),
            "draining takes nothing new"
        );
        slot.send(h.notification(&endpoint(&server))).await;
    };
    futures_util::future::join(h.outbox.drain(Duration::from_secs(10)), late).await;
    assert_eq!(h.count("ping", "delivered"), 4.0);
    assert_eq!(received(&server).await.len(), 4);
}

#[actix_web::test]
async fn drain_gives_up_at_its_timeout() {
    let h = Harness::start();
    let server = receiver(ResponseTemplate::new(503)).await;
    h.send(h.notification(&endpoint(&server))).await;
    let started = Instant::now();
    h.outbox.drain(Duration::from_millis(300)).await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert_eq!(h.count("ping", "delivered"), 0.0);
    assert_eq!(h.count("ping", "abandoned"), 1.0);
    // The abandoned delivery still ends at its expiry, not before, and is counted once.
    h.clock.advance(Duration::from_secs(601));
    let ended = actix_rt::time::timeout(
        Duration::from_secs(10),
        h.outbox.drain(Duration::from_secs(60)),
    )
    .await;
    assert!(ended.is_ok(), "the delivery went on past its expiry");
    assert_eq!(h.count("ping", "failed"), 0.0);
    assert_eq!(h.count("ping", "abandoned"), 1.0);
}
