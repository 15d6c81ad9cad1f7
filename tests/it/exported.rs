//! What the dashboard and the alert rules query is what the gateway exports (SPEC §8): every
//! `gateway_*` and `process_*` name in their PromQL, scraped from a running gateway. A renamed
//! metric or a typo in a panel fails here rather than as an empty graph or a silent alert.

use std::collections::BTreeSet;

use regex::Regex;
use serde_json::Value;

use crate::support::*;

const ALERTS: &str = include_str!("../../deploy/prometheus/alerts.yml");
const DASHBOARD: &str = include_str!("../../deploy/grafana/dashboards/authlete-gateway.json");

/// The `expr:` values of a rules file: one line, or the indented block under `expr: |`.
fn rule_exprs(rules: &str) -> Vec<String> {
    let mut exprs = Vec::new();
    let mut lines = rules.lines().peekable();
    while let Some(line) = lines.next() {
        let Some((indent, rest)) = line.split_once("expr:") else {
            continue;
        };
        if !indent.trim().is_empty() {
            continue;
        }
        let rest = rest.trim();
        if rest != "|" && rest != ">-" {
            exprs.push(rest.to_owned());
            continue;
        }
        let mut block = String::new();
        while let Some(next) = lines.peek() {
            let deeper = next.len() - next.trim_start().len() > indent.len();
            if !deeper && !next.trim().is_empty() {
                break;
            }
            block.push_str(next.trim());
            block.push('\n');
            lines.next();
        }
        exprs.push(block);
    }
    exprs
}

/// Every `expr` of the dashboard's panels and its template variables' queries.
fn dashboard_exprs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("expr" | "definition", Value::String(expr)) => out.push(expr.clone()),
                    _ => dashboard_exprs(value, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| dashboard_exprs(item, out)),
        _ => {}
    }
}

/// The gateway's and the process's metric names a PromQL expression reads.
fn metric_names(exprs: &[String]) -> BTreeSet<String> {
    let name = Regex::new(r"\b(?:gateway|process)_[a-z0-9_]+").unwrap();
    exprs
        .iter()
        .flat_map(|expr| name.find_iter(expr).map(|m| m.as_str().to_owned()))
        .collect()
}

/// The names a scrape offers: each `# TYPE` line's name, and for histograms the `_bucket`,
/// `_sum` and `_count` series PromQL reads.
fn exported_names(scrape: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in scrape.lines() {
        let Some(declared) = line.strip_prefix("# TYPE ") else {
            continue;
        };
        let mut parts = declared.split_whitespace();
        let (Some(name), Some(kind)) = (parts.next(), parts.next()) else {
            continue;
        };
        if kind == "histogram" {
            for suffix in ["_bucket", "_sum", "_count"] {
                names.insert(format!("{name}{suffix}"));
            }
        }
        names.insert(name.to_owned());
    }
    names
}

fn queried() -> BTreeSet<String> {
    let mut exprs = rule_exprs(ALERTS);
    let dashboard: Value = serde_json::from_str(DASHBOARD).unwrap();
    dashboard_exprs(&dashboard, &mut exprs);
    metric_names(&exprs)
}

#[test]
fn the_queries_are_read_from_both_files() {
    let names = queried();
    // A parser that found nothing would make the check below pass vacuously.
    for expected in [
        "gateway_notifications_total",
        "gateway_webhook_messages_total",
        "gateway_http_request_duration_seconds_bucket",
        "gateway_state_backend_up",
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
    ] {
        assert!(
            names.contains(expected),
            "{expected} not found in {names:?}"
        );
    }
}

#[test]
fn a_misspelt_query_is_caught() {
    let exported = exported_names("# TYPE gateway_x_seconds histogram\n# TYPE gateway_y gauge\n");
    let queried = metric_names(&["rate(gateway_x_seconds_bucket[5m]) + gateway_z".to_owned()]);
    let missing: Vec<_> = queried.difference(&exported).collect();
    assert_eq!(missing, ["gateway_z"]);
}

#[actix_web::test]
async fn every_metric_the_dashboard_and_alerts_query_is_exported() {
    let gw = TestGateway::start_embedded(|_| {}).await;
    // HTTP series appear with the first request; the mismatch gauges with the first discovery
    // check, which a metadata request makes.
    let reply = gw
        .get(&format!("{}/.well-known/openid-configuration", gw.base))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let exported = exported_names(&gw.metrics().await);
    let missing: Vec<_> = queried().difference(&exported).cloned().collect();
    assert!(missing.is_empty(), "queried but not exported: {missing:?}");
    gw.stop().await;
}

#[actix_web::test]
async fn build_info_and_process_metrics_are_exported() {
    let gw = TestGateway::start().await;
    let metrics = gw.metrics().await;
    let info = format!(
        r#"gateway_build_info{{revision="{}",version="{}"}}"#,
        authlete_gateway::metrics::REVISION,
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(sample(&metrics, &info), 1.0);
    // Built in a checkout, the revision is its commit (build.rs), not "unknown".
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|out| out.status.success() && std::env::var_os("GATEWAY_REVISION").is_none());
    if let Some(head) = head {
        let head = String::from_utf8_lossy(&head.stdout);
        assert_eq!(authlete_gateway::metrics::REVISION, head.trim());
    }
    assert!(sample(&metrics, "process_resident_memory_bytes") > 0.0);
    assert!(sample(&metrics, "process_open_fds") > 0.0);
    assert!(sample(&metrics, "process_start_time_seconds") > 1.0e9);
    assert!(metrics.contains("\nprocess_cpu_seconds_total "));
}
