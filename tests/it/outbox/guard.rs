//! The SSRF guard and the transport rules: refused addresses and schemes get no request at all;
//! admitted names are resolved once and reached over verified TLS.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use authlete_gateway::config::TlsSettings;
use rcgen::{CertificateParams, KeyPair};
use wiremock::MockServer;

use super::*;

async fn assert_blocked(h: &Harness, server: &MockServer, endpoint: &str) {
    h.send(h.notification(endpoint)).await;
    h.counted("blocked", 1.0).await;
    assert!(received(server).await.is_empty());
    assert_eq!(h.count("ping", "delivered"), 0.0);
    assert_eq!(h.count("ping", "failed"), 0.0);
}

#[actix_web::test]
async fn a_loopback_receiver_is_blocked_when_no_network_is_allowed() {
    let h = Harness::start_with(|s| s.notifications.allowed_networks.clear());
    let server = crate::support::receiver(200).await;
    assert_blocked(&h, &server, &format!("{}/cb", server.uri())).await;
}

#[actix_web::test]
async fn a_host_name_resolving_to_loopback_is_blocked() {
    let h = Harness::start_with(|s| s.notifications.allowed_networks.clear());
    let server = crate::support::receiver(200).await;
    let port = server.address().port();
    assert_blocked(&h, &server, &format!("http://localhost:{port}/cb")).await;
}

#[actix_web::test]
async fn an_ipv4_mapped_loopback_literal_is_blocked() {
    let h = Harness::start_with(|s| s.notifications.allowed_networks.clear());
    let server = crate::support::receiver(200).await;
    let port = server.address().port();
    assert_blocked(&h, &server, &format!("http://[::ffff:127.0.0.1]:{port}/cb")).await;
}

#[actix_web::test]
async fn http_is_refused_without_allow_insecure_http() {
    let h = Harness::start_with(|s| s.notifications.allow_insecure_http = false);
    let server = crate::support::receiver(200).await;
    assert_blocked(&h, &server, &format!("{}/cb", server.uri())).await;
}

#[actix_web::test]
async fn a_host_name_is_delivered_to_its_admitted_address() {
    let h = Harness::start();
    let server = crate::support::receiver(200).await;
    let port = server.address().port();
    h.send(h.notification(&format!("http://localhost:{port}/cb")))
        .await;
    h.counted("delivered", 1.0).await;
    let requests = received(&server).await;
    assert_eq!(
        header(&requests[0], "host"),
        Some(format!("localhost:{port}").as_str())
    );
}

#[actix_web::test]
async fn allow_private_networks_admits_loopback() {
    let h = Harness::start_with(|s| {
        s.notifications.allowed_networks.clear();
        s.notifications.allow_private_networks = true;
    });
    let server = crate::support::receiver(200).await;
    h.send(h.notification(&format!("{}/cb", server.uri())))
        .await;
    h.counted("delivered", 1.0).await;
}

/// An HTTPS receiver with a certificate for `localhost` from a private CA; counts requests.
struct TlsReceiver {
    port: u16,
    ca_file: String,
    hits: Arc<AtomicUsize>,
    _dir: tempfile::TempDir,
}

async fn tls_receiver() -> TlsReceiver {
    let dir = tempfile::tempdir().unwrap();
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_owned()])
        .and_then(|p| p.signed_by(&key, &issuer))
        .unwrap();
    let write = |name: &str, text: String| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    };
    let tls = TlsSettings {
        cert_file: write("cert.pem", cert.pem()),
        key_file: write("key.pem", key.serialize_pem()),
        client_ca_file: None,
        fapi: false,
    };
    let ca_file = write("ca.pem", ca.pem());
    authlete_gateway::tls::install_provider();
    let config = authlete_gateway::tls::server_config(&tls).unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let server = HttpServer::new(move || {
        let counter = counter.clone();
        App::new().route(
            "/cb",
            web::post().to(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                async { HttpResponse::NoContent().finish() }
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .bind_rustls_0_23(("127.0.0.1", 0), config)
    .unwrap();
    let port = server.addrs()[0].port();
    actix_rt::spawn(server.run());
    TlsReceiver {
        port,
        ca_file,
        hits,
        _dir: dir,
    }
}

#[actix_web::test]
async fn https_is_verified_against_ca_file_with_the_url_host_name() {
    let receiver = tls_receiver().await;
    let ca_file = receiver.ca_file.clone();
    let h = Harness::start_with(|s| {
        s.notifications.allow_insecure_http = false;
        s.notifications.ca_file = Some(ca_file);
    });
    h.send(h.notification(&format!("https://localhost:{}/cb", receiver.port)))
        .await;
    h.counted("delivered", 1.0).await;
    assert_eq!(receiver.hits.load(Ordering::SeqCst), 1);
}

#[actix_web::test]
async fn an_untrusted_certificate_gets_no_notification() {
    let receiver = tls_receiver().await;
    let h = Harness::start_with(|s| s.notifications.allow_insecure_http = false);
    let mut notification = h.notification(&format!("https://localhost:{}/cb", receiver.port));
    notification.expires_at = h.now() + Duration::from_secs(60);
    h.send(notification).await;
    h.end_backoff().await;
    support::eventually("an attempt that got no TLS connection", || async {
        h.attempts("ping", "connect_error") >= 1.0
    })
    .await;
    h.clock.advance(Duration::from_secs(61));
    h.counted("failed", 1.0).await;
    assert_eq!(receiver.hits.load(Ordering::SeqCst), 0);
}
