//! Client certificates from trusted proxies (RFC 9440 `Client-Cert`, nginx `X-Ssl-Cert`), and
//! their absence from anyone else.

use authlete_gateway::config::CertHeader;
use base64::Engine;
use rcgen::{CertificateParams, KeyPair};
use serde_json::json;

use crate::support::*;

/// A DER SEQUENCE that is not a certificate: it passes a first-byte check, nothing more.
const NOT_A_CERTIFICATE: &[u8] = &[0x30, 0x03, 0x02, 0x01, 0x05];

/// A real self-signed certificate for `name`, DER.
fn certificate(name: &str) -> Vec<u8> {
    let key = KeyPair::generate().unwrap();
    CertificateParams::new(vec![name.to_owned()])
        .and_then(|p| p.self_signed(&key))
        .unwrap()
        .der()
        .to_vec()
}

fn b64(der: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(der)
}

/// An RFC 9440 byte sequence.
fn sf(der: &[u8]) -> String {
    format!(":{}:", b64(der))
}

/// PEM with 64-character lines, as the gateway sends it.
fn pem(der: &[u8]) -> String {
    pem_labelled("CERTIFICATE", der)
}

fn pem_labelled(label: &str, der: &[u8]) -> String {
    let encoded = b64(der);
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// nginx's `$ssl_client_escaped_cert`.
fn escaped(pem: &str) -> String {
    percent_encoding::utf8_percent_encode(pem, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Certificates that are not exactly one well-formed X.509 certificate.
fn malformed() -> Vec<(&'static str, Vec<u8>)> {
    let real = certificate("client.example.com");
    let mut trailing = real.clone();
    trailing.extend_from_slice(b"junk");
    vec![
        (
            "a DER sequence that is no certificate",
            NOT_A_CERTIFICATE.to_vec(),
        ),
        ("0junk", b"0junk".to_vec()),
        ("a truncated certificate", real[..real.len() - 10].to_vec()),
        ("trailing bytes", trailing),
    ]
}

async fn gateway(header: &str, trusted: &str) -> TestGateway {
    let (header, trusted) = (header.to_owned(), trusted.to_owned());
    let gw = TestGateway::start_with(move |s| {
        s.server.client_cert_header = Some(match header.to_ascii_lowercase().as_str() {
            "client-cert" => CertHeader::ClientCert,
            _ => CertHeader::XSslCert,
        });
        s.server.trusted_proxies = vec![trusted.parse().unwrap()];
    })
    .await;
    gw.answer(
        "backchannel/authentication",
        json!({"action": "BAD_REQUEST", "responseContent": "{\"error\":\"invalid_request\"}"}),
    )
    .await;
    gw
}

/// Sends `headers` and expects 400 `invalid_request`.
async fn assert_refused(gw: &TestGateway, case: &str, headers: &[(&str, &str)]) {
    let reply = gw
        .post_form("/backchannel/authentication", "scope=openid", headers)
        .await;
    assert_eq!(reply.status, 400, "{case}: {}", reply.body);
    assert_eq!(reply.json()["error"], "invalid_request", "{case}");
}

#[actix_web::test]
async fn a_trusted_proxy_passes_the_rfc9440_certificate_and_chain() {
    let gw = gateway("Client-Cert", "127.0.0.0/8").await;
    let (leaf, ca1, ca2) = (
        certificate("client.example.com"),
        certificate("ca1"),
        certificate("ca2"),
    );
    let chain = format!("{}, {}", sf(&ca1), sf(&ca2));
    gw.post_form(
        "/backchannel/authentication",
        "scope=openid",
        &[("Client-Cert", &sf(&leaf)), ("Client-Cert-Chain", &chain)],
    )
    .await;
    let body = &gw.received("backchannel/authentication").await[0];
    assert_eq!(body["clientCertificate"], pem(&leaf));
    assert_eq!(body["clientCertificatePath"], json!([pem(&ca1), pem(&ca2)]));
}

#[actix_web::test]
async fn a_trusted_proxy_passes_an_nginx_escaped_pem() {
    let gw = gateway("X-Ssl-Cert", "127.0.0.1/32").await;
    let leaf = certificate("client.example.com");
    gw.post_form(
        "/backchannel/authentication",
        "scope=openid",
        &[("X-Ssl-Cert", &escaped(&pem(&leaf)))],
    )
    .await;
    let body = &gw.received("backchannel/authentication").await[0];
    assert_eq!(body["clientCertificate"], pem(&leaf));
    assert!(body.get("clientCertificatePath").is_none());
}

#[actix_web::test]
async fn a_null_nginx_certificate_means_none() {
    let gw = gateway("X-Ssl-Cert", "127.0.0.1/32").await;
    gw.post_form(
        "/backchannel/authentication",
        "scope=openid",
        &[("X-Ssl-Cert", "(null)")],
    )
    .await;
    let body = &gw.received("backchannel/authentication").await[0];
    assert!(body.get("clientCertificate").is_none());
}

/// From a peer outside `server.trusted_proxies` no certificate header reaches Authlete, whichever
/// is configured and however well-formed; the same headers from a trusted peer do, but only the
/// configured one.
#[actix_web::test]
async fn certificate_headers_from_an_untrusted_peer_are_ignored() {
    let (leaf, ca) = (certificate("client.example.com"), certificate("ca"));
    let sent = [
        ("Client-Cert", sf(&leaf)),
        ("Client-Cert-Chain", sf(&ca)),
        ("X-Ssl-Cert", escaped(&pem(&leaf))),
    ];
    let sent: Vec<(&str, &str)> = sent.iter().map(|(n, v)| (*n, v.as_str())).collect();
    for configured in ["Client-Cert", "X-Ssl-Cert"] {
        for (trusted, believed) in [("10.0.0.0/8", false), ("127.0.0.0/8", true)] {
            let gw = gateway(configured, trusted).await;
            let reply = gw
                .post_form("/backchannel/authentication", "scope=openid", &sent)
                .await;
            assert_eq!(reply.status, 400, "Authlete's answer, passed on");
            let body = &gw.received("backchannel/authentication").await[0];
            let case = format!("{configured} from a peer in {trusted}");
            if !believed {
                assert!(body.get("clientCertificate").is_none(), "{case}");
                assert!(body.get("clientCertificatePath").is_none(), "{case}");
                continue;
            }
            assert_eq!(body["clientCertificate"], pem(&leaf), "{case}");
            match configured {
                "Client-Cert" => assert_eq!(body["clientCertificatePath"], json!([pem(&ca)])),
                _ => assert!(body.get("clientCertificatePath").is_none(), "{case}"),
            }
        }
    }
    // A trusted proxy's header other than the configured one is not read either.
    let gw = gateway("Client-Cert", "127.0.0.0/8").await;
    gw.post_form("/backchannel/authentication", "scope=openid", &sent[2..])
        .await;
    let body = &gw.received("backchannel/authentication").await[0];
    assert!(body.get("clientCertificate").is_none());
}

#[actix_web::test]
async fn a_malformed_certificate_header_from_a_trusted_proxy_is_refused() {
    let gw = gateway("Client-Cert", "127.0.0.0/8").await;
    for value in ["not-a-byte-sequence", ":!!!:", ":AAAA:"] {
        assert_refused(&gw, value, &[("Client-Cert", value)]).await;
    }
    assert!(gw.received("backchannel/authentication").await.is_empty());
}

#[actix_web::test]
async fn a_client_cert_that_is_not_exactly_one_x509_certificate_is_refused() {
    let gw = gateway("Client-Cert", "127.0.0.0/8").await;
    for (case, der) in malformed() {
        assert_refused(&gw, case, &[("Client-Cert", &sf(&der))]).await;
    }
    assert!(gw.received("backchannel/authentication").await.is_empty());
}

#[actix_web::test]
async fn a_client_cert_chain_entry_that_is_not_a_certificate_is_refused() {
    let gw = gateway("Client-Cert", "127.0.0.0/8").await;
    let leaf = sf(&certificate("client.example.com"));
    let ca = sf(&certificate("ca"));
    for (case, der) in malformed() {
        let chain = format!("{ca}, {}", sf(&der));
        let headers = [
            ("Client-Cert", leaf.as_str()),
            ("Client-Cert-Chain", &chain),
        ];
        assert_refused(&gw, case, &headers).await;
    }
    assert!(gw.received("backchannel/authentication").await.is_empty());
}

#[actix_web::test]
async fn an_nginx_pem_that_is_not_exactly_x509_certificates_is_refused() {
    let gw = gateway("X-Ssl-Cert", "127.0.0.1/32").await;
    let leaf = pem(&certificate("client.example.com"));
    let mut cases: Vec<(String, String)> = malformed()
        .into_iter()
        .flat_map(|(case, der)| {
            [
                (format!("leaf: {case}"), pem(&der)),
                (
                    format!("chain entry: {case}"),
                    format!("{leaf}{}", pem(&der)),
                ),
            ]
        })
        .collect();
    cases.push(("text after the certificate".into(), format!("{leaf}junk\n")));
    cases.push((
        "text before the certificate".into(),
        format!("junk\n{leaf}"),
    ));
    cases.push((
        "a key after the certificate".into(),
        format!("{leaf}{}", pem_labelled("PRIVATE KEY", b"key")),
    ));
    for (case, text) in &cases {
        assert_refused(&gw, case, &[("X-Ssl-Cert", &escaped(text))]).await;
    }
    assert!(gw.received("backchannel/authentication").await.is_empty());
}
