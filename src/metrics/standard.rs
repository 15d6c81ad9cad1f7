//! The metrics every Prometheus target is expected to have: `gateway_build_info` and the
//! standard `process_*` set (SPEC §8).

use prometheus::{GaugeVec, Opts, Registry};

/// The crate version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The source revision the binary was built from (`build.rs`), or `unknown`.
pub const REVISION: &str = match option_env!("GATEWAY_REVISION") {
    Some(revision) => revision,
    None => "unknown",
};

/// `gateway_build_info{version, revision}`, always 1: joins any query to the build.
pub(super) fn register_build_info(registry: &Registry) {
    let opts = Opts::new(
        "gateway_build_info",
        "The gateway's version and source revision; always 1",
    );
    let Ok(info) = GaugeVec::new(opts, &["version", "revision"]) else {
        return;
    };
    info.with_label_values(&[VERSION, REVISION]).set(1.0);
    super::register(registry, Box::new(info));
}

/// The `process_*` metrics (resident memory, CPU seconds, open file descriptors, start time),
/// read from /proc at each scrape.
#[cfg(target_os = "linux")]
pub(super) fn register_process(registry: &Registry) {
    let collector = prometheus::process_collector::ProcessCollector::for_self();
    super::register(registry, Box::new(collector));
}

/// Elsewhere the prometheus crate has no process collector: the `process_*` metrics are absent.
#[cfg(not(target_os = "linux"))]
pub(super) fn register_process(_registry: &Registry) {}
