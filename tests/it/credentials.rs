//! Client certificates from trusted proxies (RFC 9440 `Client-Cert`, nginx `X-Ssl-Cert`), and
//! their absence from anyone else.

use base64::Engine;
use serde_json::json;

use crate::support::*;

/// A syntactically valid DER blob (a SEQUENCE); Authlete, not the gateway, parses it.
const DER: &[u8] = &[0x30, 0x03, 0x02, 0x01, 0x05];

fn b64(der: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(der)
}

fn expected_pem(der: &[u8]) -> String {
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        b64(der)
    )
}

async fn gateway(header: &str, trusted: &str) -> TestGateway {
    let (header, trusted) = (header.to_owned(), trusted.to_owned());
    let gw = TestGateway::start_with(move |s| {
        s.server.client_cert_header = Some(header);
        s.server.trusted_proxies = vec![trusted];
    })
    .await;
    gw.answer(
        "backchannel/authentication",
        json!({"action": "BAD_REQUEST", "responseContent": "{\"error\":\"invalid_request\"}"}),
    )
    .await;
    gw
}

#[actix_web::test]
async fn a_trusted_proxy_passes_the_rfc9440_certificate_and_chain() {
    let gw = gateway("Client-Cert", "127.0.0.0/8").await;
    let leaf = format!(":{}:", b64(DER));
    let chain = format!(":{}:, :{}:", b64(&[0x30, 0x00]), b64(&[0x30, 0x01, 0x00]));
    gw.post_form(
        "/backchannel/authentication",
        "scope=openid",
        &[("Client-Cert", &leaf), ("Client-Cert-Chain", &chain)],
    )
    .await;
    let body = &gw.received("backchannel/authentication").await[0];
    assert_eq!(body["clientCertificate"], expected_pem(DER));
    assert_eq!(
        body["clientCertificatePath"],
        json!([
            expected_pem(&[0x30, 0x00]),
            expected_pem(&[0x30, 0x01, 0x00])
        ])
    );
}

#[actix_web::test]
async fn a_trusted_proxy_passes_an_nginx_escaped_pem() {
    let gw = gateway("X-Ssl-Cert", "127.0.0.1").await;
    let escaped = expected_pem(DER)
        .replace('\n', "%0A")
        .replace(' ', "%20")
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D");
    gw.post_form(
        "/backchannel/authentication",
        "scope=openid",
        &[("X-Ssl-Cert", &escaped)],
    )
    .await;
    let body = &gw.received("backchannel/authentication").await[0];
    assert_eq!(body["clientCertificate"], expected_pem(DER));
}

#[actix_web::test]
async fn a_null_nginx_certificate_means_none() {
    let gw = gateway("X-Ssl-Cert", "127.0.0.1").await;
    gw.post_form(
        "/backchannel/authentication",
        "scope=openid",
        &[("X-Ssl-Cert", "(null)")],
    )
    .await;
    let body = &gw.received("backchannel/authentication").await[0];
    assert!(body.get("clientCertificate").is_none());
}

#[actix_web::test]
async fn certificate_headers_from_an_untrusted_peer_are_ignored() {
    let gw = gateway("Client-Cert", "10.0.0.0/8").await;
    gw.post_form(
        "/backchannel/authentication",
        "scope=openid",
        &[("Client-Cert", &format!(":{}:", b64(DER)))],
    )
    .await;
    let body = &gw.received("backchannel/authentication").await[0];
    assert!(body.get("clientCertificate").is_none());
}

#[actix_web::test]
async fn a_malformed_certificate_header_from_a_trusted_proxy_is_refused() {
    let gw = gateway("Client-Cert", "127.0.0.0/8").await;
    for value in ["not-a-byte-sequence", ":!!!:", ":AAAA:"] {
        let reply = gw
            .post_form(
                "/backchannel/authentication",
                "scope=openid",
                &[("Client-Cert", value)],
            )
            .await;
        assert_eq!(reply.status, 400, "{value}");
        assert_eq!(reply.json()["error"], "invalid_request");
    }
    assert!(gw.received("backchannel/authentication").await.is_empty());
}
