//! Handing an issued request to the authentication device (SPEC §4 step 6): a decision token,
//! the webhook message or the console listing, and the deadline that ends it if nobody decides.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use std::sync::Arc;

use super::bridge::{unix, Bridge};
use super::device::IssuedRequest;
use super::registry::Entry;
use crate::outbox::{WebhookMessage, WebhookType};
use crate::state::StateError;

/// Contacts the device for an issued request (SPEC §4 step 6), once, after the
/// acknowledgement was built and before it is sent: a decision token, the registry entry, the
/// webhook message and the deadline. An error means the request could not be listed, or its
/// webhook message could not be stored: the client must not get the acknowledgement (SPEC §12
/// "Issue").
pub async fn dispatch(bridge: &Arc<Bridge>, request: IssuedRequest) -> Result<(), StateError> {
    let decision_token = match bridge.keys.seal(&request.claims) {
        Ok(token) => token,
        Err(e) => {
            log::error!(
                request_id = request.request_id; "{e}"
            );
            return Ok(());
        }
    };
    let entry = Entry {
        ciba_request_id: random_id(),
        decision_token,
        request,
    };
    let after = bridge.deadline_after(&entry.request);
    let listed = bridge.registry.insert(&entry, after).await?;
    log::info!(
        target: "ciba",
        request_id = entry.request.request_id,
        ciba_request_id = entry.ciba_request_id;
        "request handed to the device"
    );
    if bridge.is_webhook() {
        let message = WebhookMessage {
            kind: WebhookType::AuthenticationRequest,
            id: entry.ciba_request_id.clone(),
            body: bridge.authentication_request(&entry),
            deadline: unix(entry.request.claims.issued_at) + after,
            request_id: entry.request.request_id.clone(),
            traceparent: entry.request.claims.traceparent.clone(),
        };
        if let Err(e) = bridge.outbox.store_webhook(message).await {
            // Unlisted again, so no console shows a request whose client never heard of it.
            let _ = bridge
                .registry
                .remove_ticket(&entry.request.claims.ticket)
                .await;
            return Err(e);
        }
    }
    // With `redis` the deadline was stored with the entry, for whichever replica is there.
    if !bridge.state.shares_deadlines() {
        super::deadline::schedule(bridge.clone(), entry, after, listed);
    }
    Ok(())
}

/// A random 128-bit identifier, base64url.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}
