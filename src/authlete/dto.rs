//! The gateway's view of Authlete's wire types: requests it sends and the response fields it
//! reads. JSON names are camelCase, as Authlete's Java DTOs define them.

use serde::{Deserialize, Deserializer, Serialize};

use super::action::Action;
use crate::delivery::DeliveryMode;

/// Client credentials and proofs forwarded to Authlete, checked here only for syntax.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientCredentials {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_certificate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_certificate_path: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth_client_attestation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth_client_attestation_pop: Option<String>,
}

/// `/backchannel/authentication` and `/auth/revocation` requests.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParametersRequest {
    pub parameters: String,
    #[serde(flatten)]
    pub credentials: ClientCredentials,
}

/// `/auth/token` request.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenRequest {
    pub parameters: String,
    #[serde(flatten)]
    pub credentials: ClientCredentials,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dpop: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub htm: Option<String>,
}

/// The fields every envelope carries.
pub trait Envelope {
    fn action(&self) -> &Action;
    fn result_code(&self) -> Option<&str>;
    /// Authlete's `warnings` about the call, logged by the client (rate-limited).
    fn warnings(&self) -> &[String];
}

macro_rules! envelope {
    ($t:ty) => {
        impl Envelope for $t {
            fn action(&self) -> &Action {
                &self.action
            }
            fn result_code(&self) -> Option<&str> {
                self.result_code.as_deref()
            }
            fn warnings(&self) -> &[String] {
                self.warnings.as_deref().unwrap_or_default()
            }
        }
    };
}

/// Authlete's upper-case `deliveryMode`; a mode CIBA does not define is no mode at all.
fn delivery_mode<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DeliveryMode>, D::Error> {
    let name = Option::<String>::deserialize(d)?;
    Ok(name.as_deref().and_then(DeliveryMode::from_authlete))
}

/// A scope as Authlete lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct Scope {
    pub name: String,
}

/// `/backchannel/authentication` response.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackchannelResponse {
    pub action: Action,
    pub result_code: Option<String>,
    pub warnings: Option<Vec<String>>,
    pub response_content: Option<String>,
    pub client_id: Option<serde_json::Value>,
    pub client_id_alias: Option<String>,
    #[serde(default)]
    pub client_id_alias_used: bool,
    pub client_name: Option<String>,
    #[serde(default, deserialize_with = "delivery_mode")]
    pub delivery_mode: Option<DeliveryMode>,
    pub scopes: Option<Vec<Scope>>,
    pub claim_names: Option<Vec<String>>,
    pub acrs: Option<Vec<String>>,
    pub hint_type: Option<String>,
    pub hint: Option<String>,
    pub sub: Option<String>,
    pub binding_message: Option<String>,
    pub user_code: Option<String>,
    #[serde(default)]
    pub user_code_required: bool,
    pub request_context: Option<serde_json::Value>,
    pub resources: Option<Vec<String>>,
    pub authorization_details: Option<serde_json::Value>,
    /// Grant management: the subject of the existing grant the request names by `grant_id`.
    pub grant_subject: Option<String>,
    pub ticket: Option<String>,
    pub attestation_challenge: Option<String>,
}
envelope!(BackchannelResponse);

#[derive(Debug, Clone, Serialize)]
pub struct TicketRequest<'a> {
    pub ticket: &'a str,
}

/// `/backchannel/authentication/issue` response.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueResponse {
    pub action: Action,
    pub result_code: Option<String>,
    pub warnings: Option<Vec<String>>,
    pub response_content: Option<String>,
    pub auth_req_id: Option<String>,
    #[serde(default)]
    pub expires_in: i64,
    #[serde(default)]
    pub interval: i64,
}
envelope!(IssueResponse);

#[derive(Debug, Clone, Serialize)]
pub struct FailRequest<'a> {
    pub ticket: &'a str,
    pub reason: &'a str,
}

/// Responses the gateway passes through: `/fail`, `/auth/token`, `/auth/revocation`, ...
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PassThroughResponse {
    pub action: Action,
    pub result_code: Option<String>,
    pub warnings: Option<Vec<String>>,
    pub response_content: Option<String>,
    pub dpop_nonce: Option<String>,
    pub attestation_challenge: Option<String>,
}
envelope!(PassThroughResponse);

/// `/backchannel/authentication/complete` request.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CompleteRequest<'a> {
    pub ticket: &'a str,
    pub result: &'a str,
    pub subject: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acr: Option<&'a str>,
    /// A JSON object, as a string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<String>,
}

/// `/backchannel/authentication/complete` response.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompleteResponse {
    pub action: Action,
    pub result_code: Option<String>,
    pub warnings: Option<Vec<String>>,
    pub response_content: Option<String>,
    #[serde(default, deserialize_with = "delivery_mode")]
    pub delivery_mode: Option<DeliveryMode>,
    pub client_notification_endpoint: Option<String>,
    pub client_notification_token: Option<String>,
    pub auth_req_id: Option<String>,
}
envelope!(CompleteResponse);

/// `/auth/introspection/standard` request: the resource server's form body, verbatim.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IntrospectionRequest {
    pub parameters: String,
    /// The caller's `Accept`, so Authlete can answer with a JWT (RFC 9701).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_accept_header: Option<String>,
    /// The caller's configured `rs_uri`: the audience of a JWT answer, which Authlete requires
    /// before it answers with one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rs_uri: Option<String>,
}

/// `/auth/userinfo` request.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserinfoRequest {
    pub token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_certificate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dpop: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub htm: Option<String>,
}

/// `/auth/userinfo` response: on `OK`, whose claims to fetch.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserinfoResponse {
    pub action: Action,
    pub result_code: Option<String>,
    pub warnings: Option<Vec<String>>,
    pub response_content: Option<String>,
    pub subject: Option<String>,
    pub claims: Option<Vec<String>>,
    pub dpop_nonce: Option<String>,
}
envelope!(UserinfoResponse);

/// `/auth/userinfo/issue` request; `claims` is a JSON object serialized as a string.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserinfoIssueRequest {
    pub token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<String>,
}
