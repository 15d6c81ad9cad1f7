//! The seam to the authentication device (SPEC §4 step 6): after the acknowledgement is sent,
//! the issued request is handed to a `DeviceDispatch`.

/// What the device side needs to know about an issued request.
#[derive(Debug, Clone)]
pub struct IssuedRequest {
    pub ticket: String,
    pub auth_req_id_key: [u8; 32],
    pub subject: String,
    pub client_id: Option<String>,
    pub client_name: Option<String>,
    pub delivery_mode: Option<String>,
    pub scopes: Vec<String>,
    pub claim_names: Vec<String>,
    pub acrs: Vec<String>,
    pub binding_message: Option<String>,
    pub authorization_details: Option<serde_json::Value>,
    pub request_context: Option<serde_json::Value>,
    pub resources: Option<Vec<String>>,
    /// Unix seconds.
    pub issued_at: u64,
    /// Unix seconds: the auth_req_id's expiry.
    pub expires_at: u64,
    pub request_id: String,
}

/// Contacts the user's authentication device for an issued request. Called once per issued
/// request, after the acknowledgement; it must not block.
pub trait DeviceDispatch: Send + Sync + 'static {
    fn dispatch(&self, request: IssuedRequest);
}
