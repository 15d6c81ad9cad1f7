//! Span export over OTLP/HTTP (protobuf), off the request path (SPEC §13): finished spans go
//! into a bounded queue that one thread of the application drains in batches. A full queue
//! drops spans (logged at most once a minute); a collector that is down or slow costs that
//! thread its export timeout, never a request.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use opentelemetry::Context;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{
    Sampler, SdkTracerProvider, Span, SpanData, SpanExporter, SpanProcessor,
};
use opentelemetry_sdk::Resource;

use crate::config::TelemetrySettings;

/// Finished spans waiting for export; beyond this they are dropped.
const QUEUE_CAPACITY: usize = 2048;
/// Spans per export request.
const MAX_BATCH: usize = 512;
/// How long a span waits at most before its batch is sent.
const EXPORT_DELAY: Duration = Duration::from_secs(1);
/// Dropped spans and failed exports are logged at most this often.
const REPORT_EVERY: Duration = Duration::from_secs(60);

/// Builds the application's tracer provider, or `None` without `telemetry.otlp_endpoint`.
pub fn provider(settings: &TelemetrySettings) -> Result<Option<SdkTracerProvider>, String> {
    let Some(endpoint) = &settings.otlp_endpoint else {
        return Ok(None);
    };
    let url = traces_url(endpoint.as_str());
    let mut exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(url)
        .with_timeout(settings.otlp_timeout)
        .build()
        .map_err(|e| format!("telemetry.otlp_endpoint: {e}"))?;
    let resource = Resource::builder_empty()
        .with_service_name(settings.service_name.clone())
        .build();
    exporter.set_resource(&resource);
    let processor = BoundedProcessor::start(exporter, QUEUE_CAPACITY)
        .map_err(|e| format!("starting the span exporter: {e}"))?;
    let sampler = Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(settings.sample_ratio)));
    Ok(Some(
        SdkTracerProvider::builder()
            .with_span_processor(processor)
            .with_sampler(sampler)
            .with_resource(resource)
            .build(),
    ))
}

/// The collector's base URL with the traces path OTLP/HTTP defines.
fn traces_url(base: &str) -> String {
    if base.ends_with("/v1/traces") {
        base.to_owned()
    } else {
        format!("{}/v1/traces", base.trim_end_matches('/'))
    }
}

enum Command {
    Span(Box<SpanData>),
    Flush(SyncSender<()>),
    Shutdown(SyncSender<()>),
}

/// A batch span processor with a bounded queue that says when it drops.
#[derive(Debug)]
struct BoundedProcessor {
    queue: SyncSender<Command>,
    dropped: AtomicU64,
    last_report: Mutex<Option<Instant>>,
}

impl BoundedProcessor {
    fn start<E: SpanExporter + 'static>(exporter: E, capacity: usize) -> std::io::Result<Self> {
        let (queue, received) = mpsc::sync_channel(capacity);
        std::thread::Builder::new()
            .name("span-export".into())
            .spawn(move || export_loop(exporter, received))?;
        Ok(Self {
            queue,
            dropped: AtomicU64::new(0),
            last_report: Mutex::new(None),
        })
    }

    /// Counts a dropped span; returns the number the warning reported, when one was logged.
    fn dropped_one(&self) -> Option<u64> {
        let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
        let mut last = self.last_report.try_lock().ok()?;
        if !last.is_none_or(|at| at.elapsed() >= REPORT_EVERY) {
            return None;
        }
        *last = Some(Instant::now());
        self.dropped.fetch_sub(dropped, Ordering::Relaxed);
        log::warn!(
            dropped_spans = dropped;
            "span export queue full: spans dropped (the collector is down or slow)"
        );
        Some(dropped)
    }

    fn ask(&self, command: fn(SyncSender<()>) -> Command, timeout: Duration) -> OTelSdkResult {
        let (done, wait) = mpsc::sync_channel(1);
        self.queue
            .send(command(done))
            .map_err(|_| OTelSdkError::AlreadyShutdown)?;
        wait.recv_timeout(timeout)
            .map_err(|_| OTelSdkError::Timeout(timeout))
    }
}

impl SpanProcessor for BoundedProcessor {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        if !span.span_context.is_sampled() {
            return;
        }
        match self.queue.try_send(Command::Span(Box::new(span))) {
            Ok(()) | Err(TrySendError::Disconnected(_)) => {}
            Err(TrySendError::Full(_)) => {
                self.dropped_one();
            }
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.ask(Command::Flush, Duration::from_secs(5))
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.ask(Command::Shutdown, timeout)
    }
}

/// The export thread: batches of at most `MAX_BATCH`, sent when full or `EXPORT_DELAY` old.
fn export_loop<E: SpanExporter>(exporter: E, received: Receiver<Command>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut failures = Reporter::default();
    loop {
        match received.recv_timeout(EXPORT_DELAY) {
            Ok(Command::Span(span)) => {
                batch.push(*span);
                if batch.len() >= MAX_BATCH {
                    export(&exporter, &mut batch, &mut failures);
                }
            }
            Ok(Command::Flush(done)) => {
                export(&exporter, &mut batch, &mut failures);
                let _ = done.send(());
            }
            Ok(Command::Shutdown(done)) => {
                while let Ok(Command::Span(span)) = received.try_recv() {
                    batch.push(*span);
                    if batch.len() >= MAX_BATCH {
                        export(&exporter, &mut batch, &mut failures);
                    }
                }
                export(&exporter, &mut batch, &mut failures);
                let _ = exporter.shutdown();
                let _ = done.send(());
                return;
            }
            Err(RecvTimeoutError::Timeout) => export(&exporter, &mut batch, &mut failures),
            Err(RecvTimeoutError::Disconnected) => {
                export(&exporter, &mut batch, &mut failures);
                return;
            }
        }
    }
}

fn export<E: SpanExporter>(exporter: &E, batch: &mut Vec<SpanData>, failures: &mut Reporter) {
    if batch.is_empty() {
        return;
    }
    let spans = std::mem::replace(batch, Vec::with_capacity(MAX_BATCH));
    let count = spans.len();
    if let Err(e) = futures_executor::block_on(exporter.export(spans)) {
        failures.report(count, &e);
    }
}

/// Failed exports, logged at most once a minute with the spans lost since the last line.
#[derive(Default)]
struct Reporter {
    last: Option<Instant>,
    lost: usize,
}

impl Reporter {
    fn report(&mut self, count: usize, error: &OTelSdkError) {
        self.lost += count;
        if self.last.is_none_or(|at| at.elapsed() >= REPORT_EVERY) {
            self.last = Some(Instant::now());
            log::warn!(lost_spans = self.lost; "span export failed: {error}");
            self.lost = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_warns_once_a_minute_with_the_spans_dropped_since() {
        let (queue, _received) = mpsc::sync_channel(1);
        let processor = BoundedProcessor {
            queue,
            dropped: AtomicU64::new(0),
            last_report: Mutex::new(None),
        };
        assert_eq!(
            processor.dropped_one(),
            Some(1),
            "the first drop is reported"
        );
        for _ in 0..99 {
            assert_eq!(processor.dropped_one(), None, "then not within a minute");
        }
        assert_eq!(processor.dropped.load(Ordering::Relaxed), 99);
        let a_minute_ago = Instant::now().checked_sub(REPORT_EVERY);
        *processor.last_report.lock().unwrap() = a_minute_ago;
        assert_eq!(
            processor.dropped_one(),
            Some(100),
            "a minute later, with the count"
        );
        assert_eq!(processor.dropped.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn the_traces_path_is_appended_once() {
        assert_eq!(traces_url("http://c:4318"), "http://c:4318/v1/traces");
        assert_eq!(traces_url("http://c:4318/"), "http://c:4318/v1/traces");
        assert_eq!(
            traces_url("http://c:4318/v1/traces"),
            "http://c:4318/v1/traces"
        );
    }
}
