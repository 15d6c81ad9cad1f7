//! What the authentication device is told about an issued request (SPEC §4 step 6, §5.2), in
//! the shapes the webhook and the console show.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::decision::DecisionClaims;

/// One issued request, as the gateway keeps it until it is decided: what its decision token
/// seals, and what the device is shown besides.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IssuedRequest {
    /// Ticket, subject, client, delivery mode, claim names, ACRs and times (SPEC §5.1).
    pub claims: DecisionClaims,
    pub auth_req_id_key: [u8; 32],
    pub scopes: Vec<String>,
    pub binding_message: Option<String>,
    /// The RFC 9396 array, as `authorization_details` from Authlete's wrapper.
    pub authorization_details: Option<Value>,
    /// The JSON value Authlete's `requestContext` string holds, via `request_context`.
    pub request_context: Option<Value>,
    pub resources: Option<Vec<String>>,
    /// The X-Request-Id of the backchannel request, for logs and outgoing calls.
    pub request_id: String,
}

/// Authlete sends `requestContext` as a JSON value inside a string; the device gets the value.
/// A string that does not parse gives `None`: passing it on raw would let a receiver mistake
/// text for the context. Any other JSON value is already what the string would hold.
pub fn request_context(raw: Option<&Value>) -> Option<Value> {
    match raw? {
        Value::String(text) => serde_json::from_str(text).ok(),
        Value::Null => None,
        value => Some(value.clone()),
    }
}

/// Authlete wraps the RFC 9396 array as `{"elements": [...]}`; the device gets the array. An
/// array is kept as it is; any other shape is not authorization details and gives `None`.
pub fn authorization_details(raw: Option<&Value>) -> Option<Value> {
    match raw? {
        Value::Array(_) => raw.cloned(),
        Value::Object(wrapper) => wrapper.get("elements").filter(|e| e.is_array()).cloned(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn request_context_is_the_value_inside_the_string() {
        let parsed = |raw: Value| request_context(Some(&raw));
        assert_eq!(
            parsed(json!("{\"ip\":\"203.0.113.7\"}")),
            Some(json!({"ip": "203.0.113.7"}))
        );
        assert_eq!(parsed(json!("[1,2]")), Some(json!([1, 2])));
        assert_eq!(parsed(json!("{\"ip\":")), None);
        assert_eq!(parsed(json!("")), None);
        assert_eq!(
            parsed(json!({"ip": "203.0.113.7"})),
            Some(json!({"ip": "203.0.113.7"}))
        );
        assert_eq!(parsed(Value::Null), None);
        assert_eq!(request_context(None), None);
    }

    #[test]
    fn authorization_details_are_the_elements_of_the_wrapper() {
        let unwrapped = |raw: Value| authorization_details(Some(&raw));
        let elements = json!([{"type": "payment_initiation"}]);
        assert_eq!(
            unwrapped(json!({"elements": elements})),
            Some(elements.clone())
        );
        assert_eq!(unwrapped(elements.clone()), Some(elements));
        assert_eq!(unwrapped(json!({"elements": null})), None);
        assert_eq!(unwrapped(json!({})), None);
        assert_eq!(unwrapped(json!("[]")), None);
        assert_eq!(authorization_details(None), None);
    }
}
