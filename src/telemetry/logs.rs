//! Logging with env_logger: `log.level` (overridden by `RUST_LOG`), text or JSON lines (SPEC §11).
//!
//! Log calls attach what they know as key-values (`request_id`, `route`, `api`, …). JSON lines
//! carry them as fields of their own; text lines append them as `key=value`. `request_id` and
//! `trace_id` come from the current trace scope when the call did not give them.

use std::io::Write;

use log::kv::{Key, Value, VisitSource};
use serde_json::{Map, Value as Json};

use super::trace::with_current;
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
            let line = json_line(buf.timestamp_millis().to_string(), record);
            writeln!(buf, "{line}")
        });
    } else {
        builder.format(|buf, record| {
            let ts = buf.timestamp_millis();
            writeln!(buf, "{}", text_line(&ts.to_string(), record))
        });
    }
    let _ = builder.try_init();
}

/// One JSON object: `ts`, `level`, `target`, `message`, then every key-value as a field.
pub fn json_line(ts: String, record: &log::Record<'_>) -> Json {
    let mut fields = Map::new();
    fields.insert("ts".into(), Json::String(ts));
    fields.insert("level".into(), Json::String(record.level().as_str().into()));
    fields.insert("target".into(), Json::String(record.target().into()));
    fields.insert("message".into(), Json::String(record.args().to_string()));
    let mut pairs = Pairs(Vec::new());
    let _ = record.key_values().visit(&mut pairs);
    for (key, value) in pairs.0 {
        fields.insert(key, value);
    }
    add_scope(|key, value| {
        fields.entry(key).or_insert(Json::String(value));
    });
    Json::Object(fields)
}

/// `[ts LEVEL target] message key=value …`.
pub fn text_line(ts: &str, record: &log::Record<'_>) -> String {
    let mut line = format!(
        "[{ts} {:<5} {}] {}",
        record.level(),
        record.target(),
        record.args()
    );
    let mut pairs = Pairs(Vec::new());
    let _ = record.key_values().visit(&mut pairs);
    let mut seen = Vec::with_capacity(2);
    for (key, value) in &pairs.0 {
        seen.push(key.clone());
        match value {
            Json::String(s) => line.push_str(&format!(" {key}={s}")),
            other => line.push_str(&format!(" {key}={other}")),
        }
    }
    add_scope(|key, value| {
        if !seen.iter().any(|k| k == key) {
            line.push_str(&format!(" {key}={value}"));
        }
    });
    line
}

/// The current scope's `request_id` and `trace_id`, for lines that did not name them.
fn add_scope(mut add: impl FnMut(&'static str, String)) {
    let _ = with_current(|scope| {
        if let Some(id) = &scope.request_id {
            add("request_id", id.clone());
        }
        add("trace_id", scope.trace.trace_id_hex());
    });
}

/// The key-values of one record, numbers kept as numbers.
struct Pairs(Vec<(String, Json)>);

impl<'kvs> VisitSource<'kvs> for Pairs {
    fn visit_pair(&mut self, key: Key<'kvs>, value: Value<'kvs>) -> Result<(), log::kv::Error> {
        let json = if let Some(n) = value.to_u64() {
            Json::from(n)
        } else if let Some(n) = value.to_i64() {
            Json::from(n)
        } else if let Some(n) = value.to_f64() {
            serde_json::Number::from_f64(n)
                .map(Json::Number)
                .unwrap_or(Json::Null)
        } else if let Some(b) = value.to_bool() {
            Json::Bool(b)
        } else {
            Json::String(value.to_string())
        };
        self.0.push((key.as_str().to_owned(), json));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_record<R>(f: impl FnOnce(&log::Record<'_>) -> R) -> R {
        let kvs: [(&str, log::kv::Value<'_>); 3] = [
            ("request_id", "r-1".into()),
            ("status", 200u16.into()),
            ("route", "/token".into()),
        ];
        let args = format_args!("answered");
        let record = log::Record::builder()
            .args(args)
            .level(log::Level::Info)
            .target("access")
            .key_values(&kvs)
            .build();
        f(&record)
    }

    #[test]
    fn json_lines_carry_key_values_as_fields() {
        let line = with_record(|r| json_line("t".into(), r));
        assert_eq!(line["message"], "answered");
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["target"], "access");
        assert_eq!(line["request_id"], "r-1");
        assert_eq!(line["status"], 200);
        assert_eq!(line["route"], "/token");
    }

    #[test]
    fn text_lines_append_key_values() {
        let line = with_record(|r| text_line("t", r));
        assert_eq!(
            line,
            "[t INFO  access] answered request_id=r-1 status=200 route=/token"
        );
    }
}
