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
