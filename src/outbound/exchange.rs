//! One outbound exchange: send, read a bounded body, all before one deadline; and the one
//! classification of what can go wrong on the way.

use std::io;
use std::time::Instant;

use awc::error::{ConnectError, PayloadError, SendRequestError};
use awc::http::header::{HeaderMap, HeaderName, HeaderValue};
use bytes::Bytes;

use crate::telemetry;

const TRACEPARENT: HeaderName = HeaderName::from_static(telemetry::TRACEPARENT);

/// What to do with the answer's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadBody {
    /// The caller needs it: more than `max_bytes` fails the exchange, and so does a body that
    /// breaks off (a transport failure).
    Keep { max_bytes: usize },
    /// Read up to `max_bytes` only so that the connection can be reused, then drop it: a longer
    /// or broken body costs the connection, nothing else.
    Discard { max_bytes: usize },
}

/// The peer's answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    /// Empty with `ReadBody::Discard`.
    pub body: Bytes,
}

/// The status classes callers tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusClass {
    /// 2xx.
    Success,
    /// 3xx: never followed.
    Redirect,
    /// 429: the peer is rate-limiting us.
    Throttled,
    /// Any other 4xx.
    ClientError,
    /// 5xx, and the codes above it that no RFC defines.
    ServerError,
    /// 1xx as a final answer.
    Informational,
}

impl StatusClass {
    pub fn of(status: u16) -> Self {
        match status {
            200..=299 => StatusClass::Success,
            300..=399 => StatusClass::Redirect,
            429 => StatusClass::Throttled,
            400..=499 => StatusClass::ClientError,
            500.. => StatusClass::ServerError,
            _ => StatusClass::Informational,
        }
    }
}

impl Reply {
    pub fn class(&self) -> StatusClass {
        StatusClass::of(self.status)
    }

    /// The raw `Retry-After` value, when there is one in visible ASCII; parse it with
    /// `outbound::retry_after` against the caller's clock.
    pub fn retry_after(&self) -> Option<&str> {
        self.header("retry-after")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Why no connection was made. Nothing was sent.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConnectFailure {
    /// Not connected (or not through the TLS handshake) within the client's timeouts.
    #[error("Timeout while establishing connection")]
    TimedOut,
    /// Connection refused, reset, unreachable, or a TLS failure such as an untrusted certificate: the I/O
    /// error names the cause and nothing else.
    #[error("{0}")]
    Io(String),
    /// Anything else (no address to connect to, a name that did not resolve): awc's words.
    #[error("{0}")]
    Other(String),
}

/// Why an exchange produced no usable answer. Descriptions never hold the URL's path or query,
/// a header or a body.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Failure {
    /// Not sent: connecting failed or timed out. Trying again is safe.
    #[error("connection failed: {0}")]
    Connect(ConnectFailure),
    /// The deadline passed after connecting began; the peer may have received the request and
    /// acted on it.
    #[error("no complete answer before the deadline")]
    Timeout,
    /// The connection broke while sending: the peer may have received part of the request.
    #[error("connection lost while sending: {0}")]
    Send(String),
    /// The answer's head was malformed.
    #[error("malformed response: {0}")]
    Response(String),
    /// Any other transport failure after connecting, such as a connection reset or closed
    /// before the whole body arrived.
    #[error("transport error: {0}")]
    Transport(String),
    /// The body was longer than `ReadBody::Keep`'s `max_bytes`.
    #[error("answer larger than {0} bytes")]
    BodyTooLarge(usize),
    /// The body could not be decoded (its framing or content encoding is corrupt).
    #[error("unreadable answer body: {0}")]
    BodyUnreadable(String),
}

impl Failure {
    /// True when the request was certainly not sent, so that trying again cannot apply it twice.
    pub fn retry_safe(&self) -> bool {
        matches!(self, Failure::Connect(_))
    }

    fn from_send(error: SendRequestError) -> Self {
        match error {
            SendRequestError::Connect(ConnectError::Timeout) => {
                Failure::Connect(ConnectFailure::TimedOut)
            }
            SendRequestError::Connect(ConnectError::Io(e)) => {
                Failure::Connect(ConnectFailure::Io(e.to_string()))
            }
            SendRequestError::Connect(other) => {
                Failure::Connect(ConnectFailure::Other(other.to_string()))
            }
            SendRequestError::Timeout => Failure::Timeout,
            SendRequestError::Send(e) => Failure::Send(e.to_string()),
            SendRequestError::Response(e) => Failure::Response(e.to_string()),
            other => Failure::Transport(other.to_string()),
        }
    }
}

/// Sends `request` (with `body`, if any) and reads its answer's body as `read` says, all before
/// `deadline` (the clients have no timers of their own: `ClientSettings::build`). Without the
/// head by then, the outcome is `Failure::Timeout`; a body that does not arrive in time is a
/// timeout only when it was to be kept — a discarded body costs the connection, never the
/// answer the head already gave.
pub async fn send(
    request: awc::ClientRequest,
    body: Option<Bytes>,
    read: ReadBody,
    deadline: Instant,
) -> Result<Reply, Failure> {
    let bodiless = request.get_method() == awc::http::Method::HEAD;
    let head = async {
        let mut request = request;
        // Every outbound call continues the current trace (SPEC §13).
        if let Some(traceparent) = telemetry::with_current(|s| s.trace.child().traceparent()) {
            if let Ok(value) = HeaderValue::try_from(traceparent) {
                request = request.insert_header((TRACEPARENT, value));
            }
        }
        let sent = match body {
            Some(body) => request.send_body(body).await,
            None => request.send().await,
        };
        sent.map_err(Failure::from_send)
    };
    let mut response = tokio::time::timeout_at(deadline.into(), head)
        .await
        .unwrap_or(Err(Failure::Timeout))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let (max_bytes, keep) = match read {
        ReadBody::Keep { max_bytes } => (max_bytes, true),
        ReadBody::Discard { max_bytes } => (max_bytes, false),
    };
    let read = tokio::time::timeout_at(deadline.into(), response.body().limit(max_bytes)).await;
    let body = match read {
        Ok(Ok(body)) if keep => body,
        Ok(Ok(_)) => Bytes::new(),
        _ if !keep => Bytes::new(),
        Ok(Err(PayloadError::Io(e))) if e.kind() == io::ErrorKind::TimedOut => {
            return Err(Failure::Timeout)
        }
        Err(_elapsed) => return Err(Failure::Timeout),
        Ok(Err(PayloadError::Overflow)) => return Err(Failure::BodyTooLarge(max_bytes)),
        // A reset, or a close short of the declared length: the connection failed, not the
        // peer's answer, which may well be whole next time.
        Ok(Err(e @ (PayloadError::Incomplete(_) | PayloadError::Io(_)))) => {
            return Err(Failure::Transport(format!(
                "connection lost while receiving: {e}"
            )))
        }
        Ok(Err(other)) => return Err(Failure::BodyUnreadable(other.to_string())),
    };
    if keep && !bodiless {
        cut_short(status, &headers, body.len())?;
    }
    Ok(Reply {
        status,
        headers,
        body,
    })
}

/// awc ends a body at the connection's close without an error even when `Content-Length`
/// promised more: a kept body shorter than promised is a connection lost while receiving.
fn cut_short(status: u16, headers: &HeaderMap, received: usize) -> Result<(), Failure> {
    // 1xx, 204 and 304 carry no body whatever `Content-Length` says (RFC 9110 §8.6).
    if status < 200 || status == 204 || status == 304 {
        return Ok(());
    }
    let declared = headers
        .get(awc::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    match declared {
        Some(declared) if received < declared => Err(Failure::Transport(format!(
            "connection closed after {received} of {declared} bytes"
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16) -> Reply {
        Reply {
            status,
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }

    #[test]
    fn statuses_fall_into_their_classes() {
        let class = |status| reply(status).class();
        assert_eq!(class(204), StatusClass::Success);
        assert_eq!(class(302), StatusClass::Redirect);
        assert_eq!(class(429), StatusClass::Throttled);
        assert_eq!(class(408), StatusClass::ClientError);
        assert_eq!(class(503), StatusClass::ServerError);
        assert_eq!(class(600), StatusClass::ServerError);
        assert_eq!(class(101), StatusClass::Informational);
    }

    #[test]
    fn a_body_short_of_its_content_length_is_a_lost_connection() {
        let mut headers = HeaderMap::new();
        headers.insert(
            awc::http::header::CONTENT_LENGTH,
            HeaderValue::from_static("10"),
        );
        assert!(matches!(
            cut_short(200, &headers, 4),
            Err(Failure::Transport(_))
        ));
        assert!(cut_short(200, &headers, 10).is_ok());
        assert!(cut_short(204, &headers, 0).is_ok());
        assert!(cut_short(304, &headers, 0).is_ok());
        assert!(cut_short(200, &HeaderMap::new(), 0).is_ok());
    }

    #[test]
    fn only_a_failure_to_connect_is_safe_to_retry() {
        assert!(Failure::Connect(ConnectFailure::TimedOut).retry_safe());
        assert!(Failure::Connect(ConnectFailure::Io("refused".into())).retry_safe());
        assert!(!Failure::Timeout.retry_safe());
        assert!(!Failure::Send("reset".into()).retry_safe());
        assert!(!Failure::BodyTooLarge(1).retry_safe());
    }
}
