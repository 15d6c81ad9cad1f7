//! Logging with env_logger: `log.level` (overridden by `RUST_LOG`), text or JSON lines.

use std::io::Write;

use crate::config::{LogFormat, LogSettings};

/// Initialises the global logger once; later calls are ignored.
pub fn init(settings: &LogSettings) {
    let mut builder = env_logger::Builder::new();
    // The Redis Cluster client warns about every node it fails to reach, at every reconnection
    // attempt; the state backend's link already logs each outage once (SPEC §12). `RUST_LOG`
    // can still ask for them (`redis::cluster_handling=debug`).
    builder.filter_module("redis::cluster_handling", log::LevelFilter::Error);
    builder.parse_filters(&settings.level);
    if let Ok(filters) = std::env::var("RUST_LOG") {
        builder.parse_filters(&filters);
    }
    if settings.format == LogFormat::Json {
        builder.format(|buf, record| {
            let line = serde_json::json!({
                "ts": buf.timestamp_millis().to_string(),
                "level": record.level().as_str(),
                "target": record.target(),
                "message": record.args().to_string(),
            });
            writeln!(buf, "{line}")
        });
    }
    let _ = builder.try_init();
}
