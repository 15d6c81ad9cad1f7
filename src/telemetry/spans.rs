//! The application's tracer and the spans of SPEC §13. Spans are made only when
//! `telemetry.otlp_endpoint` is set; otherwise these helpers just run the future. No attribute
//! ever carries a secret, token, hint, ticket or user code: callers pass route patterns, API
//! names, actions, result codes and statuses.

use std::borrow::Cow;
use std::future::Future;
use std::time::Duration;

use opentelemetry::trace::{
    Link, Span as _, SpanContext, SpanId, SpanKind, TraceContextExt, TraceFlags, TraceId,
    TraceState, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

use super::trace::{with_current, Scope, TraceContext, CURRENT};
use crate::config::TelemetrySettings;

/// The tracer spans are made with.
pub type Tracer = SdkTracer;

/// The application's tracer provider (never the process-global one: one test process runs
/// many gateways), shut down with the application so that the last batch is sent.
#[derive(Clone, Default)]
pub struct Tracing {
    provider: Option<SdkTracerProvider>,
    tracer: Option<Tracer>,
}

impl Tracing {
    pub fn new(settings: &TelemetrySettings) -> Result<Self, String> {
        let provider = super::export::provider(settings)?;
        let tracer = provider.as_ref().map(|p| p.tracer("authlete-gateway"));
        Ok(Self { provider, tracer })
    }

    /// `None` when no spans are recorded.
    pub fn tracer(&self) -> Option<Tracer> {
        self.tracer.clone()
    }

    /// Sends what is queued and stops the export thread, within `timeout`. Blocks.
    pub fn shutdown(&self, timeout: Duration) {
        if let Some(provider) = &self.provider {
            if let Err(e) = provider.shutdown_with_timeout(timeout) {
                log::warn!("span export did not finish at shutdown: {e}");
            }
        }
    }
}

/// What a span is: its name, kind, first attributes and links.
pub struct SpanSpec {
    pub name: Cow<'static, str>,
    pub kind: SpanKind,
    pub attributes: Vec<KeyValue>,
    pub links: Vec<TraceContext>,
}

/// The parent context the SDK needs for a position in a trace.
fn remote(parent: &TraceContext) -> Context {
    let flags = if parent.sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    Context::new().with_remote_span_context(with_flags(parent, flags))
}

/// The SDK's form of a linked position.
pub fn span_context(ctx: &TraceContext) -> SpanContext {
    with_flags(ctx, TraceFlags::SAMPLED)
}

fn with_flags(ctx: &TraceContext, flags: TraceFlags) -> SpanContext {
    SpanContext::new(
        TraceId::from_bytes(ctx.trace_id),
        SpanId::from_bytes(ctx.span_id),
        flags,
        true,
        TraceState::default(),
    )
}

/// Starts a span below `parent` (a new trace without one) and returns it with its position.
pub fn start(
    tracer: &Tracer,
    parent: Option<&TraceContext>,
    spec: SpanSpec,
) -> (opentelemetry_sdk::trace::Span, TraceContext) {
    let links = spec
        .links
        .iter()
        .map(|l| Link::with_context(span_context(l)))
        .collect();
    let builder = tracer
        .span_builder(spec.name)
        .with_kind(spec.kind)
        .with_attributes(spec.attributes)
        .with_links(links);
    let cx = parent.map(remote).unwrap_or_default();
    let span = tracer.build_with_context(builder, &cx);
    let sc = span.span_context();
    let position = TraceContext {
        trace_id: sc.trace_id().to_bytes(),
        span_id: sc.span_id().to_bytes(),
        sampled: sc.is_sampled(),
    };
    (span, position)
}

/// Runs `fut` in a span below the current one, when the current scope records spans; `spec`
/// is built only then, and `finish` adds the attributes known at the end.
pub async fn in_span<T, F: Future<Output = T>>(
    spec: impl FnOnce() -> SpanSpec,
    fut: F,
    finish: impl FnOnce(&T) -> Vec<KeyValue>,
) -> T {
    let recording = with_current(|s| s.tracer.is_some().then(|| s.clone())).flatten();
    let Some(scope) = recording else {
        return fut.await;
    };
    let Some(tracer) = scope.tracer.clone() else {
        return fut.await;
    };
    let (mut span, position) = start(&tracer, Some(&scope.trace), spec());
    let inner = Scope {
        trace: position,
        ..scope
    };
    let out = CURRENT.scope(inner, fut).await;
    for attribute in finish(&out) {
        span.set_attribute(attribute);
    }
    span.end();
    out
}
