//! User-code lockout (SPEC §4 step 2): after `ciba.user_code_max_failures` wrong codes within
//! `ciba.user_code_failure_window_secs`, a subject's requests that need a code are refused
//! until the oldest failure leaves the window. The failures live in the state backend
//! (`state::CodeFailures`): per replica with `memory`, per fleet with `redis`.

use std::sync::Arc;

use crate::state::{CodeFailures, State, StateError};

pub struct UserCodeLockout {
    state: Arc<State>,
}

impl UserCodeLockout {
    pub fn new(state: Arc<State>) -> Self {
        Self { state }
    }

    /// Whether `who` (a subject, or `hint:<hint>`) has reached the limit within the window. An
    /// error must not open the lock: the caller refuses the request (fails closed).
    pub async fn is_locked(&self, who: &str) -> Result<bool, StateError> {
        self.state.is_locked(who).await
    }

    /// Records one wrong code for `who`. On failure the code is still refused; the failure is
    /// not counted, but while the backend fails every check fails closed too.
    pub async fn record_failure(&self, who: &str) {
        if let Err(e) = self.state.record_failure(who).await {
            log::warn!("user-code lockout: a wrong code was not counted: {e}");
        }
    }
}
