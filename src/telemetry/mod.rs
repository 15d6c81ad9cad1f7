//! Logs and traces (SPEC §11, §13): the env_logger set-up with structured key-values, the W3C
//! trace context that every request carries into its logs and outbound calls, and the spans
//! exported over OTLP/HTTP when `telemetry.otlp_endpoint` is set.

mod export;
mod logs;
mod spans;
mod trace;

pub use logs::init;
pub use opentelemetry::trace::SpanKind;
pub use opentelemetry::KeyValue;
pub use spans::{in_span, span_context, start, SpanSpec, Tracer, Tracing};
pub(crate) use trace::with_current;
pub use trace::{
    annotate, auth_req_id_note, current, link, recorded_position, scope, Annotations, Notes, Scope,
    TraceContext, TRACEPARENT,
};
