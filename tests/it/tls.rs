//! TLS on the public listener: a client certificate is requested but not required, any
//! certificate is accepted, and the session's certificate reaches Authlete as PEM.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::json;

use crate::support::*;

struct Pki {
    dir: tempfile::TempDir,
    ca_der: CertificateDer<'static>,
}

fn write(dir: &tempfile::TempDir, name: &str, contents: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, contents).unwrap_or_else(|e| panic!("{e}"));
    path.to_string_lossy().into_owned()
}

/// A CA, a server certificate for 127.0.0.1 signed by it, written to a temp dir.
fn pki() -> (Pki, String, String, String) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let ca_key = KeyPair::generate().unwrap_or_else(|e| panic!("{e}"));
    let mut ca_params =
        CertificateParams::new(Vec::<String>::new()).unwrap_or_else(|e| panic!("{e}"));
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params
        .self_signed(&ca_key)
        .unwrap_or_else(|e| panic!("{e}"));
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().unwrap_or_else(|e| panic!("{e}"));
    let server = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .and_then(|p| p.signed_by(&server_key, &issuer))
        .unwrap_or_else(|e| panic!("{e}"));
    let cert_file = write(&dir, "server.pem", &server.pem());
    let key_file = write(&dir, "server.key", &server_key.serialize_pem());
    let ca_file = write(&dir, "ca.pem", &ca.pem());
    let ca_der = ca.der().clone();
    (Pki { dir, ca_der }, cert_file, key_file, ca_file)
}

/// A self-signed client certificate that no configured CA issued.
fn client_identity() -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let key = KeyPair::generate().unwrap_or_else(|e| panic!("{e}"));
    let cert = CertificateParams::new(vec!["client.example.com".to_owned()])
        .and_then(|p| p.self_signed(&key))
        .unwrap_or_else(|e| panic!("{e}"));
    (
        cert.der().clone(),
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    )
}

fn https_client(
    ca: &CertificateDer<'static>,
    identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
) -> awc::Client {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.clone()).unwrap_or_else(|e| panic!("{e}"));
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap_or_else(|e| panic!("{e}"))
    .with_root_certificates(roots);
    let config = match identity {
        Some((chain, key)) => builder
            .with_client_auth_cert(chain, key)
            .unwrap_or_else(|e| panic!("{e}")),
        None => builder.with_no_client_auth(),
    };
    awc::Client::builder()
        .connector(awc::Connector::new().rustls_0_23(Arc::new(config)))
        .finish()
}

async fn tls_gateway() -> (TestGateway, Pki) {
    let (pki, cert_file, key_file, ca_file) = pki();
    let gw = TestGateway::start_with(move |s| {
        s.server.tls = Some(authlete_gateway::config::TlsSettings {
            cert_file,
            key_file,
            client_ca_file: Some(ca_file),
            fapi: true,
        });
    })
    .await;
    gw.answer(
        "backchannel/authentication",
        json!({"action": "BAD_REQUEST", "responseContent": "{\"error\":\"invalid_request\"}"}),
    )
    .await;
    (gw, pki)
}

async fn post(client: &awc::Client, gw: &TestGateway) -> u16 {
    let url = gw.base.replace("http://", "https://");
    let response = client
        .post(format!("{url}/backchannel/authentication"))
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .send_body("scope=openid")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    response.status().as_u16()
}

/// The session's leaf goes as `clientCertificate`; the rest of the chain the client sent, if
/// any, as `clientCertificatePath`.
#[actix_web::test]
async fn the_tls_session_certificate_and_its_chain_reach_authlete_as_pem() {
    let (gw, pki) = tls_gateway().await;
    let (leaf, key) = client_identity();
    let (intermediate, _) = client_identity();
    for (n, chain) in [vec![leaf.clone()], vec![leaf.clone(), intermediate.clone()]]
        .into_iter()
        .enumerate()
    {
        let client = https_client(&pki.ca_der, Some((chain, key.clone_key())));
        assert_eq!(post(&client, &gw).await, 400);
        let body = &gw.received("backchannel/authentication").await[n];
        let pem = authlete_gateway::http::client_cert::pem;
        assert_eq!(body["clientCertificate"], pem(leaf.as_ref()));
        match n {
            0 => assert!(body.get("clientCertificatePath").is_none(), "{body}"),
            _ => assert_eq!(
                body["clientCertificatePath"],
                json!([pem(intermediate.as_ref())])
            ),
        }
    }
    drop(pki.dir);
}

#[actix_web::test]
async fn a_client_without_a_certificate_is_still_served() {
    let (gw, pki) = tls_gateway().await;
    let client = https_client(&pki.ca_der, None);
    assert_eq!(post(&client, &gw).await, 400);
    let body = &gw.received("backchannel/authentication").await[0];
    assert!(body.get("clientCertificate").is_none());
}
