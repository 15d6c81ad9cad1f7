//! Failures of a call to Authlete, classified where they happen.

use std::time::Duration;

/// The `action` labels of calls that got no documented action, one per `metric_action` arm.
pub const FAILURE_ACTIONS: [&str; 3] = ["transport_error", "http_error", "unknown"];

/// Why a call to Authlete did not produce a usable answer.
///
/// `Send + Sync`, so it can cross task boundaries and serve as a moka loader error.
#[derive(Debug, Clone, thiserror::Error)]
pub enum UpstreamError {
    /// No connection could be made; the request was never sent.
    #[error("connecting to Authlete failed: {0}")]
    Connect(String),
    /// No answer in time. Whether Authlete acted on the request is unknown.
    #[error("Authlete did not answer within {0:?}")]
    Timeout(Duration),
    /// The connection broke while sending or receiving.
    #[error("transport error talking to Authlete: {0}")]
    Transport(String),
    /// Authlete is overloaded or failing (429 or 5xx).
    #[error("Authlete answered HTTP {status} (resultCode {result_code:?})")]
    Unavailable {
        status: u16,
        retry_after: Option<u64>,
        result_code: Option<String>,
    },
    /// Authlete rejected the call itself (our credentials or configuration are wrong).
    #[error("Authlete rejected the call with HTTP {status} (resultCode {result_code:?})")]
    Rejected {
        status: u16,
        result_code: Option<String>,
    },
    /// The answer could not be read or parsed.
    #[error("unreadable answer from Authlete: {0}")]
    Body(String),
    /// An action that the API does not document.
    #[error("undocumented action {action:?} (resultCode {result_code:?})")]
    UnknownAction {
        action: String,
        result_code: Option<String>,
    },
}

impl UpstreamError {
    /// True when the failure is transient and the client should retry later (→ 503).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            UpstreamError::Connect(_)
                | UpstreamError::Timeout(_)
                | UpstreamError::Transport(_)
                | UpstreamError::Unavailable { .. }
        )
    }

    /// Authlete's own `Retry-After`, when it sent one.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            UpstreamError::Unavailable { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The `action` label of `gateway_authlete_requests_total` for this failure.
    pub fn metric_action(&self) -> &'static str {
        match self {
            UpstreamError::Connect(_) | UpstreamError::Timeout(_) | UpstreamError::Transport(_) => {
                "transport_error"
            }
            UpstreamError::Unavailable { .. } | UpstreamError::Rejected { .. } => "http_error",
            UpstreamError::Body(_) | UpstreamError::UnknownAction { .. } => "unknown",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failure_is_counted_under_a_label_exported_in_advance() {
        let failures = [
            UpstreamError::Connect(String::new()),
            UpstreamError::Timeout(Duration::ZERO),
            UpstreamError::Transport(String::new()),
            UpstreamError::Unavailable {
                status: 503,
                retry_after: None,
                result_code: None,
            },
            UpstreamError::Rejected {
                status: 401,
                result_code: None,
            },
            UpstreamError::Body(String::new()),
            UpstreamError::UnknownAction {
                action: "X".into(),
                result_code: None,
            },
        ];
        for failure in failures {
            assert!(
                FAILURE_ACTIONS.contains(&failure.metric_action()),
                "{failure:?}"
            );
        }
    }
}
