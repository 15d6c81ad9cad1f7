//! Failures of a call to Authlete, classified where they happen: the outbound exchange's
//! failures and Authlete's non-2xx answers, with its advice on when to retry.

use std::time::{Duration, SystemTime};

use actix_web::http::header::HeaderMap;

use crate::outbound::{self, Failure, StatusClass};

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

/// A failed call as the gateway's callers see it: the classified failure, logged where it
/// happened, and the `Retry-After` a client should get (Authlete's advice, capped, else
/// `authlete.retry_after_secs`).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{error}")]
pub struct AuthleteFailure {
    pub error: UpstreamError,
    pub retry_after_secs: u64,
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

impl UpstreamError {
    /// The outbound exchange's failure, as Authlete's client reports it.
    pub(super) fn from_failure(failure: Failure, timeout: Duration) -> Self {
        match failure {
            Failure::Connect(cause) => UpstreamError::Connect(cause.to_string()),
            Failure::Timeout => UpstreamError::Timeout(timeout),
            Failure::Send(cause) | Failure::Response(cause) | Failure::Transport(cause) => {
                UpstreamError::Transport(cause)
            }
            body @ (Failure::BodyTooLarge(_) | Failure::BodyUnreadable(_)) => {
                UpstreamError::Body(format!("reading the answer: {body}"))
            }
        }
    }
}

/// Authlete's non-2xx answers: overloaded or failing (429, 5xx) is transient, anything else
/// says our credentials or configuration are wrong.
pub(super) fn check_status(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), UpstreamError> {
    let class = StatusClass::of(status);
    if class == StatusClass::Success {
        return Ok(());
    }
    let result_code = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get("resultCode")?
                .as_str()
                .map(|s| s.chars().take(16).collect())
        });
    match class {
        StatusClass::Throttled | StatusClass::ServerError => Err(UpstreamError::Unavailable {
            status,
            retry_after: retry_after(headers, SystemTime::now()),
            result_code,
        }),
        _ => Err(UpstreamError::Rejected {
            status,
            result_code,
        }),
    }
}

/// Authlete's advice on when to retry, in the order Authlete documents its headers:
/// `RateLimit-Reset`, then `X-RateLimit-Reset` (delay seconds), then `Retry-After` (delay seconds
/// or an HTTP date). A value that is ≤ 0 or does not parse says nothing, so the next header is
/// read; with none left the caller falls back to `authlete.retry_after_secs`.
fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<u64> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let resets = ["ratelimit-reset", "x-ratelimit-reset"]
        .into_iter()
        .map(|name| text(name).and_then(|value| value.trim().parse::<u64>().ok()));
    let delay = text("retry-after")
        .and_then(|value| outbound::retry_after(value, now))
        // A date a fraction of a second ahead still means "not yet": round up.
        .map(|wait| wait.as_secs() + u64::from(wait.subsec_nanos() > 0));
    resets
        .chain(std::iter::once(delay))
        .flatten()
        .find(|secs| *secs > 0)
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        map
    }

    fn advice(pairs: &[(&'static str, &'static str)]) -> Option<u64> {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap_or(UNIX_EPOCH);
        retry_after(&headers(pairs), now)
    }

    #[test]
    fn retry_after_reads_each_header_alone() {
        assert_eq!(advice(&[("ratelimit-reset", "12")]), Some(12));
        assert_eq!(advice(&[("x-ratelimit-reset", "11")]), Some(11));
        assert_eq!(advice(&[("retry-after", "7")]), Some(7));
        assert_eq!(
            advice(&[("retry-after", "Sun, 06 Nov 1994 08:50:07 GMT")]),
            Some(30)
        );
        assert_eq!(advice(&[("retry-after", "soon")]), None);
        assert_eq!(advice(&[]), None);
    }

    #[test]
    fn retry_after_prefers_rate_limit_reset_then_its_x_form_then_retry_after() {
        let all = [
            ("ratelimit-reset", "12"),
            ("x-ratelimit-reset", "11"),
            ("retry-after", "7"),
        ];
        assert_eq!(advice(&all), Some(12));
        assert_eq!(advice(&all[1..]), Some(11));
        assert_eq!(
            advice(&[("ratelimit-reset", "12"), ("retry-after", "7")]),
            Some(12)
        );
    }

    #[test]
    fn retry_after_skips_zero_negative_and_past_values() {
        assert_eq!(
            advice(&[("ratelimit-reset", "0"), ("retry-after", "9")]),
            Some(9)
        );
        assert_eq!(
            advice(&[("ratelimit-reset", "-3"), ("x-ratelimit-reset", "4")]),
            Some(4)
        );
        assert_eq!(
            advice(&[
                ("x-ratelimit-reset", "0"),
                ("retry-after", "Sun, 06 Nov 1994 08:00:00 GMT")
            ]),
            None
        );
        assert_eq!(advice(&[("retry-after", "0")]), None);
    }

    #[test]
    fn status_classes_map_to_transient_or_rejected() {
        let none = headers(&[]);
        assert!(matches!(
            check_status(503, &none, b""),
            Err(UpstreamError::Unavailable { status: 503, .. })
        ));
        assert!(matches!(
            check_status(401, &none, br#"{"resultCode":"A001202"}"#),
            Err(UpstreamError::Rejected { status: 401, result_code: Some(ref c) }) if c == "A001202"
        ));
        assert!(check_status(204, &none, b"").is_ok());
    }

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
