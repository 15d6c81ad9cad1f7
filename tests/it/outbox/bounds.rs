//! The concurrency and time bounds of delivery: in-flight limits and the per-attempt timeout.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;

/// A receiver that holds each request for a while and records how many it held at once.
#[derive(Clone, Default)]
struct Gauge {
    current: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
    served: Arc<AtomicUsize>,
}

async fn slow_receiver(gauge: Gauge) -> String {
    let server = HttpServer::new(move || {
        let gauge = gauge.clone();
        App::new().route(
            "/cb",
            web::post().to(move || {
                let gauge = gauge.clone();
                async move {
                    let now = gauge.current.fetch_add(1, Ordering::SeqCst) + 1;
                    gauge.most.fetch_max(now, Ordering::SeqCst);
                    actix_rt::time::sleep(Duration::from_millis(150)).await;
                    gauge.current.fetch_sub(1, Ordering::SeqCst);
                    gauge.served.fetch_add(1, Ordering::SeqCst);
                    HttpResponse::NoContent().finish()
                }
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .bind(("127.0.0.1", 0))
    .unwrap();
    let address = server.addrs()[0];
    actix_rt::spawn(server.run());
    format!("http://{address}/cb")
}

async fn most_at_once(adjust: impl FnOnce(&mut authlete_gateway::config::Settings)) -> usize {
    let gauge = Gauge::default();
    let endpoint = slow_receiver(gauge.clone()).await;
    let h = Harness::start_with(adjust);
    for _ in 0..6 {
        h.send(h.notification(&endpoint)).await;
    }
    h.counted("delivered", 6.0).await;
    assert_eq!(gauge.served.load(Ordering::SeqCst), 6);
    gauge.most.load(Ordering::SeqCst)
}

#[actix_web::test]
async fn one_receiver_gets_at_most_max_in_flight_per_host_requests_at_once() {
    let most = most_at_once(|s| s.notifications.max_in_flight_per_host = 2).await;
    assert_eq!(most, 2);
}

#[actix_web::test]
async fn max_in_flight_bounds_every_request_together() {
    let most = most_at_once(|s| s.notifications.max_in_flight = 1).await;
    assert_eq!(most, 1);
}

#[actix_web::test]
async fn an_attempt_slower_than_timeout_ms_is_abandoned_and_retried() {
    let h = Harness::start_with(|s| s.notifications.timeout = Duration::from_millis(100));
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    h.send(h.notification(&format!("{}/cb", server.uri())))
        .await;
    h.end_backoff().await;
    h.counted("delivered", 1.0).await;
    assert_eq!(h.attempts("ping", "timeout"), 1.0);
    assert_eq!(h.attempts("ping", "2xx"), 1.0);
    assert_eq!(received(&server).await.len(), 2);
}

/// A receiver that answers `200` with a declared body it never sends, holding the connection.
async fn stalling_receiver() -> (String, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request).await;
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
                .await;
            held.push(stream);
        }
    });
    (format!("http://{address}/cb"), task)
}

#[actix_web::test]
async fn a_2xx_whose_body_never_arrives_is_delivered_not_retried() {
    let h = Harness::start_with(|s| s.notifications.timeout = Duration::from_millis(300));
    let (endpoint, receiver) = stalling_receiver().await;
    h.send(h.notification(&endpoint)).await;
    h.counted("delivered", 1.0).await;
    assert_eq!(h.attempts("ping", "2xx"), 1.0);
    assert_eq!(h.attempts("ping", "timeout"), 0.0);
    assert_eq!(h.count("ping", "failed"), 0.0);
    receiver.abort();
}
