//! Authlete answers for the wiremock Authlete, shaped as Authlete sends them.

use serde_json::Value;

/// An Authlete `USER_IDENTIFICATION` answer for a login hint.
pub fn user_identification(hint: &str) -> Value {
    serde_json::json!({
        "resultCode": "A179001",
        "resultMessage": "[A179001] The backchannel authentication request was processed successfully.",
        "action": "USER_IDENTIFICATION",
        "clientId": 26862190133482u64,
        "clientIdAliasUsed": false,
        "clientName": "Demo",
        "deliveryMode": "POLL",
        "hintType": "LOGIN_HINT",
        "hint": hint,
        "requestedExpiry": 0,
        "scopes": [{"defaultEntry": false, "name": "openid"}],
        "ticket": "ticket-1",
        "userCodeRequired": false
    })
}

/// An Authlete issue `OK` answer.
pub fn issued(auth_req_id: &str, interval: i64) -> Value {
    let content =
        serde_json::json!({"auth_req_id": auth_req_id, "interval": interval, "expires_in": 600});
    serde_json::json!({
        "resultCode": "A183001",
        "resultMessage": "[A183001] An auth_req_id was issued successfully.",
        "action": "OK",
        "authReqId": auth_req_id,
        "expiresIn": 600,
        "interval": interval,
        "responseContent": content.to_string()
    })
}

/// An Authlete `/fail` answer for `reason`.
pub fn failed(action: &str, error: &str) -> Value {
    serde_json::json!({
        "resultCode": "A185001",
        "resultMessage": "[A185001] Successfully generated an error response for the backchannel authentication request.",
        "action": action,
        "responseContent": serde_json::json!({"error": error}).to_string()
    })
}

/// Authlete's `NOTIFICATION` answer to `/complete` for a ping request `req-1`, pointing at
/// `receiver`'s `/cb` with `token`.
pub fn ping_notification(receiver: &wiremock::MockServer, token: &str) -> Value {
    serde_json::json!({
        "resultCode": "A198002",
        "resultMessage": "[A198002] Successfully updated the database so that the token endpoint can generate an error.",
        "action": "NOTIFICATION",
        "authReqId": "req-1",
        "deliveryMode": "PING",
        "clientNotificationEndpoint": format!("{}/cb", receiver.uri()),
        "clientNotificationToken": token,
        "responseContent": serde_json::json!({"auth_req_id": "req-1"}).to_string()
    })
}
