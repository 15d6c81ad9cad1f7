//! The service's scopes and the standard claims they imply (OpenID Connect Core 5.4).

use serde_json::{json, Value};

/// Scopes the emulated service supports; others are dropped from requests, as Authlete does.
pub(crate) const SUPPORTED: [&str; 6] = [
    "openid",
    "profile",
    "email",
    "address",
    "phone",
    "offline_access",
];

const PROFILE: [&str; 14] = [
    "name",
    "family_name",
    "given_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "updated_at",
];

/// The requested scopes that the service supports, in request order, without duplicates.
pub(crate) fn supported(requested: &str) -> Vec<String> {
    let mut scopes: Vec<String> = Vec::new();
    for scope in requested.split_whitespace() {
        if SUPPORTED.contains(&scope) && !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_owned());
        }
    }
    scopes
}

/// The claim names implied by the profile, email, phone and address scopes.
pub(crate) fn claim_names(scopes: &[String]) -> Vec<String> {
    let mut names = Vec::new();
    for scope in scopes {
        let implied: &[&str] = match scope.as_str() {
            "profile" => &PROFILE,
            "email" => &["email", "email_verified"],
            "address" => &["address"],
            "phone" => &["phone_number", "phone_number_verified"],
            _ => &[],
        };
        names.extend(implied.iter().map(|s| (*s).to_owned()));
    }
    names
}

/// Every standard claim the service can release.
pub(crate) fn all_claims() -> Vec<String> {
    let all: Vec<String> = SUPPORTED.iter().map(|s| (*s).to_owned()).collect();
    let mut claims = vec!["sub".to_owned()];
    claims.extend(claim_names(&all));
    claims
}

/// `Scope` objects as in `/backchannel/authentication` responses.
pub(crate) fn objects(scopes: &[String]) -> Value {
    Value::Array(
        scopes
            .iter()
            .map(|name| json!({"name": name, "defaultEntry": false}))
            .collect(),
    )
}
