//! Compares Authlete's discovery document with the URLs the gateway serves (SPEC §3.3).
//!
//! Authlete checks DPoP proofs and client assertions against the endpoints the service
//! advertises, so a discovery document that disagrees with `server.public_url` breaks clients in
//! ways that are hard to trace back. The gateway says so once per differing value, and keeps
//! `gateway_metadata_mismatch{field}` at 1 while the difference lasts.

use std::collections::HashSet;
use std::sync::Mutex;

use serde_json::{Map, Value};

use crate::metrics::Metrics;

/// The discovery members checked, with the route each should name (`None`: the issuer itself).
const FIELDS: [(&str, Option<&str>); 7] = [
    ("issuer", None),
    (
        "backchannel_authentication_endpoint",
        Some("/backchannel/authentication"),
    ),
    ("token_endpoint", Some("/token")),
    ("jwks_uri", Some("/jwks")),
    ("introspection_endpoint", Some("/introspection")),
    ("revocation_endpoint", Some("/revocation")),
    ("userinfo_endpoint", Some("/userinfo")),
];

/// Checks every discovery document fetched from Authlete.
pub struct MismatchCheck {
    /// `server.public_url` without a trailing slash: the expected issuer.
    base: String,
    metrics: Metrics,
    /// `(field, value)` pairs already warned about.
    warned: Mutex<HashSet<(&'static str, String)>>,
}

impl MismatchCheck {
    pub fn new(public_url: &str, metrics: Metrics) -> Self {
        Self {
            base: public_url.trim_end_matches('/').to_owned(),
            metrics,
            warned: Mutex::new(HashSet::new()),
        }
    }

    /// Sets the gauge of every field, and warns about each new differing value.
    pub fn check(&self, discovery: &Map<String, Value>) {
        for (field, route) in FIELDS {
            let expected = format!("{}{}", self.base, route.unwrap_or(""));
            let actual = discovery.get(field).and_then(Value::as_str);
            let matches = actual == Some(expected.as_str());
            self.metrics
                .metadata_mismatch
                .with_label_values(&[field])
                .set(if matches { 0.0 } else { 1.0 });
            if !matches {
                self.warn(field, actual, &expected);
            }
        }
    }

    fn warn(&self, field: &'static str, actual: Option<&str>, expected: &str) {
        let shown = actual.unwrap_or("(absent)").to_owned();
        let first = self
            .warned
            .lock()
            .map(|mut warned| warned.insert((field, shown.clone())))
            .unwrap_or(true);
        if first {
            log::warn!(
                "Authlete's discovery has {field} = {shown}, but the gateway serves {expected}: \
                 set the service's URLs to match server.public_url (DPoP proofs and client \
                 assertions are checked against them)"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gauge(metrics: &Metrics, field: &str) -> f64 {
        metrics.metadata_mismatch.with_label_values(&[field]).get()
    }

    #[test]
    fn a_differing_issuer_sets_its_gauge_and_matching_fields_stay_zero() {
        let metrics = Metrics::new();
        let check = MismatchCheck::new("https://id.example.com/", metrics.clone());
        let base = "https://id.example.com";
        let mut doc = Map::new();
        doc.insert("issuer".into(), "https://other.example.com".into());
        for (field, route) in FIELDS.iter().skip(1) {
            doc.insert(
                (*field).into(),
                format!("{base}{}", route.unwrap_or("")).into(),
            );
        }
        check.check(&doc);
        assert_eq!(gauge(&metrics, "issuer"), 1.0);
        assert_eq!(gauge(&metrics, "token_endpoint"), 0.0);
        doc.insert("issuer".into(), base.into());
        doc.remove("userinfo_endpoint");
        check.check(&doc);
        assert_eq!(gauge(&metrics, "issuer"), 0.0);
        assert_eq!(gauge(&metrics, "userinfo_endpoint"), 1.0);
    }
}
