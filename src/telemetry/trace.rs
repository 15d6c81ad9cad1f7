//! W3C Trace Context (`traceparent`): continued from the incoming request, or started here, and
//! made current for the request's future so that log lines and outbound calls find it without
//! every function passing it on. The current context lives in a task-local, set only for the
//! span of one future (the request, a detached `/complete`, a delivery): nothing process-wide.

use std::future::Future;

use rand::RngCore;

/// The header name, as W3C Trace Context spells it.
pub const TRACEPARENT: &str = "traceparent";

/// One position in a trace: its trace id, the current span's id, and the sampled flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceContext {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    pub sampled: bool,
}

impl TraceContext {
    /// A new trace, sampled.
    pub fn start() -> Self {
        let mut rng = rand::thread_rng();
        let mut trace_id = [0u8; 16];
        while trace_id == [0u8; 16] {
            rng.fill_bytes(&mut trace_id);
        }
        Self {
            trace_id,
            span_id: new_span_id(),
            sampled: true,
        }
    }

    /// Parses a `traceparent` header (version 00, or a later version read as 00); `None` for
    /// anything malformed, all-zero ids included, so that the caller starts a new trace.
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        let mut parts = value.split('-');
        let version = parts.next()?;
        let trace = parts.next()?;
        let span = parts.next()?;
        let flags = parts.next()?;
        if version.len() != 2 || version == "ff" || (version == "00" && parts.next().is_some()) {
            return None;
        }
        let _ = u8::from_str_radix(version, 16).ok()?;
        let trace_id: [u8; 16] = decode_lower_hex(trace)?;
        let span_id: [u8; 8] = decode_lower_hex(span)?;
        let [flags]: [u8; 1] = decode_lower_hex(flags)?;
        if trace_id == [0u8; 16] || span_id == [0u8; 8] {
            return None;
        }
        Some(Self {
            trace_id,
            span_id,
            sampled: flags & 1 == 1,
        })
    }

    /// The same trace, a new span below this one.
    pub fn child(&self) -> Self {
        Self {
            span_id: new_span_id(),
            ..*self
        }
    }

    /// The `traceparent` header value for an outbound call made from this span.
    pub fn traceparent(&self) -> String {
        let mut out = String::with_capacity(55);
        out.push_str("00-");
        push_hex(&mut out, &self.trace_id);
        out.push('-');
        push_hex(&mut out, &self.span_id);
        out.push_str(if self.sampled { "-01" } else { "-00" });
        out
    }

    /// The trace id as 32 lowercase hex digits, as logged.
    pub fn trace_id_hex(&self) -> String {
        let mut out = String::with_capacity(32);
        push_hex(&mut out, &self.trace_id);
        out
    }
}

fn new_span_id() -> [u8; 8] {
    let mut rng = rand::thread_rng();
    let mut id = [0u8; 8];
    while id == [0u8; 8] {
        rng.fill_bytes(&mut id);
    }
    id
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
}

/// W3C Trace Context allows lowercase hex only.
fn decode_lower_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != 2 * N || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

/// What the current future's logs and outbound calls carry: the trace position and the
/// request id (the X-Request-Id, or the id of the request a background job serves).
#[derive(Debug, Clone)]
pub struct Scope {
    pub trace: TraceContext,
    pub request_id: Option<String>,
    /// The application's tracer, when spans are recorded (`telemetry.otlp_endpoint`).
    pub tracer: Option<super::Tracer>,
    /// Attributes for the incoming request's span, added by the handler (`annotate`).
    pub notes: Option<Notes>,
}

/// What a handler adds to its request's span: attributes and links, at most `MAX_NOTES` of
/// each.
pub type Notes = std::sync::Arc<std::sync::Mutex<Annotations>>;

#[derive(Debug, Default)]
pub struct Annotations {
    pub attributes: Vec<opentelemetry::KeyValue>,
    pub links: Vec<TraceContext>,
}

const MAX_NOTES: usize = 8;

fn with_notes(f: impl FnOnce(&mut Annotations)) {
    let _ = CURRENT.try_with(|scope| {
        if let Some(Ok(mut notes)) = scope.notes.as_ref().map(|n| n.lock()) {
            f(&mut notes);
        }
    });
}

/// Adds an attribute to the current request's span, when one is recorded; `note` runs only then.
pub fn annotate(note: impl FnOnce() -> opentelemetry::KeyValue) {
    with_notes(|notes| {
        if notes.attributes.len() < MAX_NOTES {
            notes.attributes.push(note());
        }
    });
}

/// Links the current request's span, when one is recorded, to the span `traceparent` names:
/// how a token poll joins the backchannel request it collects (SPEC §13).
pub fn link(traceparent: &str) {
    with_notes(|notes| {
        if notes.links.len() < MAX_NOTES {
            notes.links.extend(TraceContext::parse(traceparent));
        }
    });
}

/// The current position as a `traceparent`, when spans are recorded: what a later step of the
/// flow, in another request, links to.
pub fn recorded_position() -> Option<String> {
    with_current(|s| s.tracer.is_some().then(|| s.trace.traceparent())).flatten()
}

/// The attribute that lets a trace search join a backchannel request and its token polls:
/// the first 8 bytes of the auth_req_id's SHA-256, as the logs name it; nothing a reader can use.
pub fn auth_req_id_note(auth_req_id: &str) -> opentelemetry::KeyValue {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(auth_req_id.as_bytes());
    opentelemetry::KeyValue::new("ciba.auth_req_id_sha256", hex::encode(&digest[..8]))
}

tokio::task_local! {
    pub(super) static CURRENT: Scope;
}

/// Runs `fut` with `scope` as the current trace context.
pub async fn scope<F: Future>(scope: Scope, fut: F) -> F::Output {
    CURRENT.scope(scope, fut).await
}

/// The current scope, when a request or a background job set one.
pub fn current() -> Option<Scope> {
    CURRENT.try_with(Clone::clone).ok()
}

/// Reads the current scope without cloning it.
pub(crate) fn with_current<R>(f: impl FnOnce(&Scope) -> R) -> Option<R> {
    CURRENT.try_with(f).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_traceparent_is_continued_and_written_back() {
        let value = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let ctx = TraceContext::parse(value).unwrap();
        assert_eq!(ctx.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert!(ctx.sampled);
        assert_eq!(ctx.traceparent(), value);
        let child = ctx.child();
        assert_eq!(child.trace_id, ctx.trace_id);
        assert_ne!(child.span_id, ctx.span_id);
    }

    #[test]
    fn malformed_traceparents_are_refused() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-xyz-00f067aa0ba902b7-01",
        ] {
            assert!(TraceContext::parse(bad).is_none(), "{bad}");
        }
        let later = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-more";
        assert!(!TraceContext::parse(later).unwrap().sampled);
    }

    #[test]
    fn a_new_trace_has_non_zero_ids() {
        let ctx = TraceContext::start();
        assert_ne!(ctx.trace_id, [0u8; 16]);
        assert_ne!(ctx.span_id, [0u8; 8]);
        assert_eq!(ctx.traceparent().len(), 55);
    }
}
