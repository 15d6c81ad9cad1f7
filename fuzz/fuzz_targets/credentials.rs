//! Client credentials from request headers (SPEC §3): `Authorization: Basic`, RFC 9440
//! `Client-Cert` / `Client-Cert-Chain`, nginx's `X-Ssl-Cert` from a trusted proxy, the
//! attestation headers, and the `DPoP` header rules. Any headers, no panic; what is accepted
//! has the shape the rules promise.
//!
//! Input: records of `[header selector][length: u16 LE][value]`.
#![no_main]

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::test::TestRequest;
use authlete_gateway::config::CertHeader;
use authlete_gateway::http::headers::dpop;
use authlete_gateway::http::peer::Proxies;
use authlete_gateway::http::CredentialRules;
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 8] = [
    "authorization",
    "client-cert",
    "client-cert-chain",
    "x-ssl-cert",
    "dpop",
    "oauth-client-attestation",
    "oauth-client-attestation-pop",
    "x-forwarded-for",
];

fuzz_target!(|data: &[u8]| {
    let Some((&flags, mut rest)) = data.split_first() else {
        return;
    };
    let mut req = TestRequest::default();
    let mut sent_authorization = false;
    while let [selector, lo, hi, tail @ ..] = rest {
        let len = usize::from(u16::from_le_bytes([*lo, *hi])).min(tail.len());
        let (value, next) = tail.split_at(len);
        rest = next;
        let name = NAMES[usize::from(*selector) % NAMES.len()];
        if let Ok(value) = HeaderValue::from_bytes(value) {
            sent_authorization |= name == "authorization";
            req = req.append_header((HeaderName::from_static(name), value));
        }
    }
    // The peer is a trusted proxy or not.
    let peer = if flags & 1 == 0 {
        "127.0.0.1:1"
    } else {
        "192.0.2.1:1"
    };
    let req = req
        .peer_addr(peer.parse().unwrap_or_else(|e| panic!("{e}")))
        .to_http_request();
    let proxies = Proxies::new(vec!["127.0.0.0/8"
        .parse()
        .unwrap_or_else(|e| panic!("{e}"))]);

    for cert_header in [
        None,
        Some(CertHeader::ClientCert),
        Some(CertHeader::XSslCert),
    ] {
        let rules = CredentialRules {
            realm: "fuzz".to_owned(),
            proxies: proxies.clone(),
            cert_header,
        };
        let Ok(found) = rules.collect(&req) else {
            continue;
        };
        if let Some(id) = &found.client_id {
            assert!(sent_authorization);
            assert!(!id.is_empty(), "an empty Basic client id is refused");
        }
        assert_eq!(found.client_id.is_some(), found.client_secret.is_some());
        if let Some(cert) = &found.client_certificate {
            assert!(
                flags & 1 == 0,
                "a certificate header from an untrusted peer is ignored"
            );
            assert!(cert.starts_with("-----BEGIN CERTIFICATE-----\n"));
            assert!(cert.ends_with("-----END CERTIFICATE-----\n"));
        } else {
            assert!(found.client_certificate_path.is_none());
        }
        if let Some(chain) = &found.client_certificate_path {
            assert!(!chain.is_empty());
        }
    }

    if let Ok(Some(proof)) = dpop(&req) {
        assert!(!proof.is_empty() && !proof.contains(','));
        assert_eq!(proof, proof.trim());
    }
});
