//! Logging with env_logger: `log.level` (overridden by `RUST_LOG`), text or JSON lines.

use std::io::Write;

use crate::config::{LogFormat, LogSettings};

/// Initialises the global logger once; later calls are ignored.
pub fn init(settings: &LogSettings) {
    let mut builder = env_logger::Builder::new();
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
