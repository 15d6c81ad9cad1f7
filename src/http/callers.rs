//! The resource servers allowed to call `/introspection` (`[[introspection.clients]]`).
//!
//! Authlete's standard introspection API receives no caller credentials, so the gateway
//! authenticates callers itself: Basic credentials, secrets compared in constant time against
//! every entry, so the answer time says nothing about which ids exist.

use actix_web::HttpRequest;
use sha2::{Digest, Sha256};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

use super::authorization::authorization;
use crate::config::IntrospectionClient;
use crate::error::{basic_challenge, GatewayError};

/// The configured callers; built once.
pub struct IntrospectionCallers {
    clients: Vec<IntrospectionClient>,
    realm: String,
}

impl IntrospectionCallers {
    pub fn new(clients: Vec<IntrospectionClient>, realm: &str) -> Self {
        Self {
            clients,
            realm: realm.to_owned(),
        }
    }

    /// Accepts exactly one `Authorization: Basic` naming a listed caller with its secret, and
    /// returns that caller's entry.
    pub fn authenticate(&self, req: &HttpRequest) -> Result<&IntrospectionClient, GatewayError> {
        let (id, secret) = authorization(req.headers())
            .ok()
            .flatten()
            .filter(|found| found.is("basic"))
            .and_then(|found| found.basic_pair())
            .ok_or_else(|| self.refuse())?;
        let given_hash = hex::encode(Sha256::digest(secret.as_bytes()));
        let mut found = Choice::from(0);
        // Selected without a branch, like the comparisons, so that which entry matched does
        // not show in the answer time either.
        let mut index = 0u64;
        for (i, client) in self.clients.iter().enumerate() {
            let id_matches = client.id.as_bytes().ct_eq(id.as_bytes());
            let secret_matches = match (&client.secret, &client.secret_sha256) {
                (Some(plain), _) => plain.expose().as_bytes().ct_eq(secret.as_bytes()),
                (None, Some(hash)) => hash.expose().as_bytes().ct_eq(given_hash.as_bytes()),
                (None, None) => Choice::from(0),
            };
            let matches = id_matches & secret_matches;
            index.conditional_assign(&(i as u64), matches);
            found |= matches;
        }
        let caller = usize::try_from(index)
            .ok()
            .and_then(|i| self.clients.get(i));
        match caller {
            Some(caller) if bool::from(found) => Ok(caller),
            _ => Err(self.refuse()),
        }
    }

    fn refuse(&self) -> GatewayError {
        GatewayError::InvalidClient {
            reason: "unknown caller or wrong secret",
            challenge: basic_challenge(&self.realm),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;
    use actix_web::http::header;
    use actix_web::test::TestRequest;
    use base64::Engine;

    fn callers() -> IntrospectionCallers {
        let hashed = hex::encode(Sha256::digest(b"s2"));
        IntrospectionCallers::new(
            vec![
                IntrospectionClient {
                    id: "rs1".into(),
                    secret: Some(Secret::new("s1")),
                    secret_sha256: None,
                    rs_uri: None,
                },
                IntrospectionClient {
                    id: "rs2".into(),
                    secret: None,
                    secret_sha256: Some(Secret::new(hashed)),
                    rs_uri: Some("https://rs2.example.com".into()),
                },
            ],
            "realm",
        )
    }

    fn with_basic(id: &str, secret: &str) -> HttpRequest {
        let pair = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
        TestRequest::default()
            .insert_header((header::AUTHORIZATION, format!("Basic {pair}")))
            .to_http_request()
    }

    #[test]
    fn plain_and_hashed_secrets_authenticate_their_own_caller_and_return_its_entry() {
        let callers = callers();
        let found = |req: &HttpRequest| {
            let caller = callers.authenticate(req).ok()?;
            Some((caller.id.clone(), caller.rs_uri.clone()))
        };
        assert_eq!(found(&with_basic("rs1", "s1")), Some(("rs1".into(), None)));
        assert_eq!(
            found(&with_basic("rs2", "s2")),
            Some(("rs2".into(), Some("https://rs2.example.com".into())))
        );
        assert!(callers.authenticate(&with_basic("rs1", "s2")).is_err());
        assert!(callers.authenticate(&with_basic("rs3", "s1")).is_err());
        let anonymous = TestRequest::default().to_http_request();
        assert!(callers.authenticate(&anonymous).is_err());
    }
}
