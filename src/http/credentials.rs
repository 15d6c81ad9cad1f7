//! Client credentials and proofs taken from the request, checked for syntax only: Authlete
//! authenticates the client.

use super::headers::single_header;
use actix_web::HttpRequest;

use super::authorization::{authorization, AuthorizationError};
use super::client_cert::{self, pem};
use super::peer::{PeerCertificates, Proxies};
use crate::authlete::dto::ClientCredentials;
use crate::config::CertHeader;
use crate::error::{basic_challenge, GatewayError};

/// Everything needed to read client credentials; built once from the settings.
#[derive(Debug, Clone)]
pub struct CredentialRules {
    pub realm: String,
    pub proxies: Proxies,
    pub cert_header: Option<CertHeader>,
}

impl CredentialRules {
    /// Collects the client's credentials: Basic, certificate, attestation. Any `Authorization`
    /// scheme other than Basic is refused.
    pub fn collect(&self, req: &HttpRequest) -> Result<ClientCredentials, GatewayError> {
        let (client_id, client_secret) = self.basic(req)?.unzip();
        let (client_certificate, client_certificate_path) = self.certificate(req)?;
        Ok(ClientCredentials {
            client_id,
            client_secret,
            client_certificate,
            client_certificate_path,
            oauth_client_attestation: single_header(req, "oauth-client-attestation")?,
            oauth_client_attestation_pop: single_header(req, "oauth-client-attestation-pop")?,
        })
    }

    fn invalid(&self, reason: &'static str) -> GatewayError {
        GatewayError::InvalidClient {
            reason,
            challenge: basic_challenge(&self.realm),
        }
    }

    /// `Authorization: Basic` → client id and secret, each form-decoded (RFC 6749 §2.3.1).
    fn basic(&self, req: &HttpRequest) -> Result<Option<(String, String)>, GatewayError> {
        let found = match authorization(req.headers()) {
            Ok(found) => found,
            Err(AuthorizationError::Repeated) => {
                return Err(self.invalid("more than one Authorization header"))
            }
            Err(AuthorizationError::Malformed) => {
                return Err(self.invalid("malformed Authorization header"))
            }
        };
        let Some(found) = found else {
            return Ok(None);
        };
        if !found.is("basic") {
            return Err(self.invalid("only Basic client authentication is accepted here"));
        }
        let pair = found.basic_pair().filter(|(id, _)| !id.is_empty());
        pair.map(Some)
            .ok_or_else(|| self.invalid("malformed Basic credentials"))
    }

    /// The client certificate (PEM) and its chain: from a trusted proxy's header when
    /// configured and present, else from this TLS session.
    pub fn certificate(
        &self,
        req: &HttpRequest,
    ) -> Result<(Option<String>, Option<Vec<String>>), GatewayError> {
        let trusted = req
            .peer_addr()
            .is_some_and(|peer| self.proxies.contains(peer.ip()));
        if trusted {
            let from_header = match self.cert_header {
                Some(header) => client_cert::from_header(req, header)?,
                None => None,
            };
            if let Some((cert, chain)) = from_header {
                return Ok((Some(cert), (!chain.is_empty()).then_some(chain)));
            }
        }
        Ok(match req.conn_data::<PeerCertificates>() {
            Some(certs) => {
                let mut pems = certs.0.iter().map(|der| pem(der));
                let leaf = pems.next();
                let chain: Vec<String> = pems.collect();
                (leaf, (!chain.is_empty()).then_some(chain))
            }
            None => (None, None),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::net::SocketAddr;

    use actix_web::test::TestRequest;
    use base64::Engine;

    use super::*;
    use crate::http::client_cert::tests::{certificate, sf};

    const PROXY: &str = "10.0.0.7:4000";
    const CLIENT: &str = "192.0.2.9:4000";

    fn rules(cert_header: Option<CertHeader>) -> CredentialRules {
        CredentialRules {
            realm: "gateway".into(),
            proxies: Proxies::new(vec!["10.0.0.0/8".parse().unwrap()]),
            cert_header,
        }
    }

    fn request(peer: &str, headers: &[(&str, &str)]) -> HttpRequest {
        let mut req = TestRequest::post().peer_addr(peer.parse::<SocketAddr>().unwrap());
        for (name, value) in headers {
            req = req.append_header((*name, *value));
        }
        req.to_http_request()
    }

    fn basic(pair: &str) -> String {
        let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
        format!("Basic {encoded}")
    }

    /// The reason and challenge of an `invalid_client` refusal.
    fn refusal(result: Result<ClientCredentials, GatewayError>) -> (&'static str, String) {
        match result {
            Err(GatewayError::InvalidClient { reason, challenge }) => (reason, challenge),
            other => panic!("expected invalid_client, got {other:?}"),
        }
    }

    #[test]
    fn basic_credentials_are_form_decoded_and_the_rest_is_carried_as_sent() {
        let auth = basic("my%3Aclient:s%20e+cret");
        let req = request(
            CLIENT,
            &[
                ("authorization", &auth),
                ("oauth-client-attestation", "attestation.jwt"),
                ("oauth-client-attestation-pop", "pop.jwt"),
            ],
        );
        let credentials = rules(None).collect(&req).unwrap();
        assert_eq!(credentials.client_id.as_deref(), Some("my:client"));
        assert_eq!(credentials.client_secret.as_deref(), Some("s e cret"));
        assert_eq!(
            credentials.oauth_client_attestation.as_deref(),
            Some("attestation.jwt")
        );
        assert_eq!(
            credentials.oauth_client_attestation_pop.as_deref(),
            Some("pop.jwt")
        );
        assert_eq!(credentials.client_certificate, None);
        assert_eq!(credentials.client_certificate_path, None);
    }

    #[test]
    fn no_authorization_header_is_no_credentials() {
        let credentials = rules(None).collect(&request(CLIENT, &[])).unwrap();
        assert_eq!(credentials.client_id, None);
        assert_eq!(credentials.client_secret, None);
        assert_eq!(credentials.oauth_client_attestation, None);
    }

    #[test]
    fn every_unusable_authorization_is_invalid_client_with_the_realm_s_challenge() {
        let cases: [(&[&str], &str); 6] = [
            (
                &["Bearer abc"],
                "only Basic client authentication is accepted here",
            ),
            (&[&basic(":secret")], "malformed Basic credentials"),
            (&["Basic !!!"], "malformed Basic credentials"),
            (&["Basic"], "malformed Basic credentials"),
            (&["Basic \u{e9}"], "malformed Authorization header"),
            (
                &[&basic("a:b"), &basic("a:b")],
                "more than one Authorization header",
            ),
        ];
        for (values, want) in cases {
            let headers: Vec<(&str, &str)> = values.iter().map(|v| ("authorization", *v)).collect();
            let (reason, challenge) = refusal(rules(None).collect(&request(CLIENT, &headers)));
            assert_eq!(reason, want, "{values:?}");
            assert_eq!(challenge, "Basic realm=\"gateway\"", "{values:?}");
        }
    }

    #[test]
    fn a_repeated_attestation_header_is_refused() {
        let req = request(
            CLIENT,
            &[
                ("oauth-client-attestation", "a"),
                ("oauth-client-attestation", "b"),
            ],
        );
        assert!(matches!(
            rules(None).collect(&req),
            Err(GatewayError::InvalidRequest(_))
        ));
    }

    #[test]
    fn a_certificate_header_counts_only_from_a_trusted_proxy_when_configured() {
        let (leaf, ca) = (certificate(), certificate());
        let (leaf_sf, chain_sf) = (sf(&leaf), sf(&ca));
        let headers = [
            ("client-cert", leaf_sf.as_str()),
            ("client-cert-chain", &chain_sf),
        ];
        let from_proxy = request(PROXY, &headers);
        let (cert, chain) = rules(Some(CertHeader::ClientCert))
            .certificate(&from_proxy)
            .unwrap();
        assert_eq!(cert, Some(pem(&leaf)));
        assert_eq!(chain, Some(vec![pem(&ca)]));

        let from_client = request(CLIENT, &headers);
        let read = rules(Some(CertHeader::ClientCert)).certificate(&from_client);
        assert_eq!(read.unwrap(), (None, None));
        let not_configured = rules(None).certificate(&from_proxy);
        assert_eq!(not_configured.unwrap(), (None, None));
        let other_header = rules(Some(CertHeader::XSslCert)).certificate(&from_proxy);
        assert_eq!(other_header.unwrap(), (None, None));
    }

    #[test]
    fn a_certificate_without_a_chain_has_no_path_and_a_malformed_one_is_refused() {
        let leaf = sf(&certificate());
        let req = request(PROXY, &[("client-cert", &leaf)]);
        let (cert, chain) = rules(Some(CertHeader::ClientCert))
            .certificate(&req)
            .unwrap();
        assert!(cert.is_some());
        assert_eq!(chain, None);

        let req = request(PROXY, &[("client-cert", ":bm90IGEgY2VydA==:")]);
        assert!(matches!(
            rules(Some(CertHeader::ClientCert)).certificate(&req),
            Err(GatewayError::InvalidRequest(
                "malformed client certificate header"
            ))
        ));
        // From an untrusted peer the same header is not even read.
        let req = request(CLIENT, &[("client-cert", ":bm90IGEgY2VydA==:")]);
        let read = rules(Some(CertHeader::ClientCert)).certificate(&req);
        assert_eq!(read.unwrap(), (None, None));
    }
}
