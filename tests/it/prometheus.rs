//! A real Prometheus (Debian's `prometheus`) scrapes a gateway's admin `/metrics` on loopback
//! while a ping flow runs through it and the embedded emulator; its HTTP API then answers with
//! the flow's Authlete calls and the delivered notification. Proves the exposition parses and
//! the series are what an operator's queries find, not just what our own parser reads.

use std::collections::BTreeMap;
use std::future::Future;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::*;

const PING: (&str, &str) = ("ping-client", "ping-secret");
const DELIVERED: &str =
    r#"gateway_notifications_total{job="authlete-gateway",mode="ping",outcome="delivered"}"#;

/// A `prometheus` server in a temporary directory, stopped when dropped.
struct Prometheus {
    child: Child,
    url: String,
    dir: tempfile::TempDir,
}

impl Prometheus {
    /// Scrapes `target` (host:port) every second as job "authlete-gateway".
    fn start(target: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
                 scrape_configs:\n  - job_name: authlete-gateway\n    \
                 static_configs:\n      - targets: [\"{target}\"]\n"
            ),
        )
        .unwrap();
        let listen = format!("127.0.0.1:{}", free_port());
        let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={listen}"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        Self {
            child,
            url: format!("http://{listen}"),
            dir,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// The instant vector of `query`: each series' labels and value.
    async fn query(&self, query: &str) -> Vec<(BTreeMap<String, String>, f64)> {
        let Ok(mut response) = client()
            .get(format!("{}/api/v1/query", self.url))
            .query(&[("query", query)])
            .unwrap()
            .send()
            .await
        else {
            return Vec::new();
        };
        let body: Value = response.json().await.unwrap_or_default();
        let results = body["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        results
            .iter()
            .map(|series| {
                let labels = serde_json::from_value(series["metric"].clone()).unwrap();
                let value = series["value"][1]
                    .as_str()
                    .unwrap_or("NaN")
                    .parse()
                    .unwrap();
                (labels, value)
            })
            .collect()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn prometheus_installed() -> bool {
    Command::new("prometheus")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success())
}

/// Looks at `condition` every 100 ms until it holds; Prometheus starts and scrapes on its own
/// schedule, so this waits longer than `eventually`, and says what it last saw.
async fn within<F, Fut>(what: &str, limit: Duration, prometheus: &Prometheus, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let started = Instant::now();
    loop {
        let last = match condition().await {
            Ok(()) => return,
            Err(last) => last,
        };
        assert!(
            started.elapsed() < limit,
            "still waiting for {what} after {limit:?}; last: {last}\nprometheus log:\n{}",
            prometheus.log()
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The gateway's own counts of `gateway_authlete_requests_total` that moved: (api, action).
fn exercised(scrape: &str) -> BTreeMap<(String, String), f64> {
    let pattern = regex::Regex::new(
        r#"^gateway_authlete_requests_total\{action="([^"]+)",api="([^"]+)"\} (\S+)$"#,
    )
    .unwrap();
    scrape
        .lines()
        .filter_map(|line| pattern.captures(line))
        .map(|c| ((c[2].to_owned(), c[1].to_owned()), c[3].parse().unwrap()))
        .filter(|(_, value)| *value > 0.0)
        .collect()
}

async fn gateway(receiver: &str) -> TestGateway {
    let endpoint = format!("{receiver}/cb");
    TestGateway::start_embedded(move |s| {
        let client: authlete_gateway::config::EmulatorClient = toml::from_str(&format!(
            "client_id = \"{}\"\nclient_secret = \"{}\"\ndelivery_mode = \"ping\"\n\
             notification_endpoint = \"{endpoint}\"\n",
            PING.0, PING.1
        ))
        .unwrap();
        s.emulator.clients.push(client);
    })
    .await
}

#[actix_web::test]
async fn prometheus_scrapes_the_calls_and_the_delivered_notification_of_a_ping_flow() {
    if !installed_or_skipped("prometheus", prometheus_installed()) {
        return;
    }
    let receiver = receiver(204).await;
    let gw = gateway(&receiver.uri()).await;
    let target = gw.admin.trim_start_matches("http://").to_owned();
    let prometheus = Prometheus::start(&target);
    within(
        "the gateway scraped",
        Duration::from_secs(60),
        &prometheus,
        || async {
            // The delivered count is there at 0 before any notification (SPEC §8).
            let delivered = prometheus.query(DELIVERED).await;
            match delivered.first() {
                Some((_, value)) if *value == 0.0 => Ok(()),
                other => Err(format!("{other:?}")),
            }
        },
    )
    .await;

    let ack = gw
        .start_ciba(PING, "&client_notification_token=notification-token-1")
        .await;
    let auth_req_id = ack["auth_req_id"].as_str().unwrap().to_owned();
    let entry = gw.pending().await[0].clone();
    let token = entry["decision_token"].as_str().unwrap();
    assert_eq!(
        gw.decide(token, r#"{"decision":"approve"}"#).await.status,
        204
    );
    received_at_least(&receiver, 1).await;
    let tokens = gw.poll(PING, &auth_req_id).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);

    let scrape = gw.metrics().await;
    let calls = exercised(&scrape);
    for api in ["backchannel_authentication", "issue", "complete", "token"] {
        assert!(
            calls.keys().any(|(called, _)| called == api),
            "{api} not called: {calls:?}"
        );
    }
    within(
        "Prometheus to see every call",
        Duration::from_secs(30),
        &prometheus,
        || async {
            let seen = prometheus
                .query("gateway_authlete_requests_total > 0")
                .await;
            for ((api, action), count) in &calls {
                let found = seen.iter().find(|(labels, _)| {
                    labels.get("api") == Some(api) && labels.get("action") == Some(action)
                });
                match found {
                    Some((_, value)) if value >= count => {}
                    other => return Err(format!("{api}/{action}: want {count}, saw {other:?}")),
                }
            }
            Ok(())
        },
    )
    .await;
    within(
        "Prometheus to see the delivery",
        Duration::from_secs(30),
        &prometheus,
        || async {
            match prometheus.query(DELIVERED).await.first() {
                Some((_, value)) if *value == 1.0 => Ok(()),
                other => Err(format!("{other:?}")),
            }
        },
    )
    .await;
    // Seen from 0, the first delivery after the start is one that `increase()` counts: what
    // the alert rules rely on.
    let increase = format!("increase({DELIVERED}[5m])");
    let increased = prometheus.query(&increase).await;
    assert!(
        increased.first().is_some_and(|(_, value)| *value > 0.0),
        "{increase}: {increased:?}"
    );
    gw.stop().await;
}
