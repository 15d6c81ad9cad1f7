//! The claim names that belong to the protocol (registered JWT claims and OpenID Connect's
//! own), which Authlete and the gateway set themselves: neither a device decision (SPEC §5.3)
//! nor the user directory (§4.1) may supply them.

const PROTOCOL_CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "azp",
    "at_hash",
    "c_hash",
    "rt_hash",
    "sid",
];

/// True for a registered JWT or protocol claim name, including every `urn:openid:*` claim.
pub fn is_protocol_claim(name: &str) -> bool {
    PROTOCOL_CLAIMS.contains(&name) || name.starts_with("urn:openid:")
}
