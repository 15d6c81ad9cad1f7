//! The state comparison (`--redis-url`): what the `redis` state backend costs against `memory`.
//!
//! Two fresh gateways, identical but for `[state]`, each in front of its own embedded emulator,
//! are measured in alternating rounds (the order swapped every round) on the CIBA paths that
//! touch state:
//!
//! - `POST /backchannel/authentication`, issued and left pending: reserve a place, commit it,
//!   record the interval, list the request with its deadline (four state operations);
//! - CIBA token polls that Authlete answers `authorization_pending` (400), over one request per
//!   user issued to the poll client: the polling control's check before forwarding and its
//!   record after (two). `ciba.poll_leeway_ms` is as long as the interval, so that every poll
//!   is checked and recorded yet none is answered `slow_down` by the gateway.
//!
//! Both gateways must show exactly those operations, all successful.

mod report;

use awc::http::StatusCode;

use super::load::{self, Call, Outcome};
use super::scenarios::Gateway;
use super::scenarios::{self, Backend};
use super::{fetch, sample, Options};
use crate::redis_probe;

/// Requests issued to the poll client before the rounds, one per user: the ids the polls cycle
/// over.
const POLL_IDS: usize = 64;
/// The state operations of one issued backchannel request, and of one pending poll.
const BACKCHANNEL_OPS: [&str; 4] = [
    "pending_reserve",
    "pending_commit",
    "poll_record_interval",
    "registry_insert",
];
const POLL_OPS: [&str; 2] = ["poll_check", "poll_record"];

/// One scenario on both gateways: memory first, redis second.
type Pair = [Option<Outcome>; 2];

struct Measured {
    backchannel: Pair,
    poll: Pair,
}

/// How many requests each gateway gets.
struct Counts {
    backchannel_per_round: usize,
    poll_per_round: usize,
    rounds: usize,
    concurrency: usize,
}

impl Counts {
    fn new(o: &Options) -> Self {
        let rounds = o.rounds.max(1);
        Self {
            backchannel_per_round: o.backchannel_requests / rounds,
            poll_per_round: o.poll_requests / rounds,
            rounds,
            concurrency: o.concurrency,
        }
    }

    fn backchannel_warmup(&self) -> usize {
        self.backchannel_per_round * self.rounds / 10
    }

    fn poll_warmup(&self) -> usize {
        self.poll_per_round * self.rounds / 10
    }

    /// Issued requests per gateway: the poll ids, the warm-up and the measured ones.
    fn issued(&self) -> usize {
        POLL_IDS + self.backchannel_warmup() + self.backchannel_per_round * self.rounds
    }

    fn polls(&self) -> usize {
        self.poll_warmup() + self.poll_per_round * self.rounds
    }
}

/// Runs the comparison against the Redis at `url`, checks both gateways and prints the report.
pub async fn compare(o: &Options, client: &awc::Client, url: &str) -> Result<(), String> {
    let server = redis_probe::probe(url).await?;
    let counts = Counts::new(o);
    let key_prefix = format!(
        "agw-bench-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis())
    );
    let memory = scenarios::state_settings(o.workers, counts.issued(), Backend::Memory)?;
    let memory = Gateway::start(memory).await?;
    let redis = Backend::Redis {
        url,
        key_prefix: &key_prefix,
    };
    let redis = match scenarios::state_settings(o.workers, counts.issued(), redis) {
        Ok(settings) => Gateway::start(settings).await,
        Err(e) => Err(e),
    };
    let redis = match redis {
        Ok(redis) => redis,
        Err(e) => {
            memory.shutdown.shutdown().await;
            return Err(e);
        }
    };
    let gateways = [memory, redis];
    let before = redis_probe::stats(url).await;
    let started = std::time::Instant::now();
    let measured = measure(&counts, client, &gateways).await;
    let elapsed = started.elapsed().as_secs_f64();
    let after = redis_probe::stats(url).await;
    let mut metrics = Vec::new();
    if measured.is_ok() {
        for gateway in &gateways {
            metrics.push(fetch(client, &format!("{}/metrics", gateway.admin)).await);
        }
    }
    for gateway in &gateways {
        gateway.shutdown.shutdown().await;
    }
    let removed = redis_probe::remove_keys(url, &key_prefix).await;
    let measured = measured?;
    let mut texts = Vec::new();
    for (metrics, name) in metrics.into_iter().zip(["memory", "redis"]) {
        let metrics = metrics?;
        check(&metrics, &counts).map_err(|e| format!("{name} gateway: {e}"))?;
        texts.push(metrics);
    }
    report::report(o, &counts, &server, &measured);
    report::operation_times(&texts);
    match (before, after) {
        (Ok(before), Ok(after)) => {
            let (cpu, commands) = after.since(&before);
            println!(
                "redis server during the comparison: {cpu:.1} s CPU in {elapsed:.1} s; commands:"
            );
            for (name, calls, usec) in commands.iter().take(6) {
                println!("  {name:<16} {calls:>9} calls {usec:>7.1} µs/call");
            }
        }
        (Err(e), _) | (_, Err(e)) => println!("redis server statistics not readable: {e}"),
    }
    match removed {
        Ok(n) => println!("removed this run's {n} keys under {{{key_prefix}}}"),
        Err(e) => println!("this run's keys under {{{key_prefix}}} were not removed: {e}"),
    }
    Ok(())
}

async fn measure(
    counts: &Counts,
    client: &awc::Client,
    gateways: &[Gateway; 2],
) -> Result<Measured, String> {
    let (ok, c) = (StatusCode::OK, counts.concurrency);
    gateways[1].await_state_backend(client).await?;
    let mut calls = Vec::new();
    for gateway in gateways {
        let backchannel = scenarios::gateway_backchannel(&gateway.url)?;
        let ids = poll_ids(client, &backchannel).await?;
        calls.push((backchannel, scenarios::gateway_poll(&gateway.url, &ids)?));
    }
    let pending = StatusCode::BAD_REQUEST;
    for (backchannel, poll) in &calls {
        load::run(client, backchannel, ok, counts.backchannel_warmup(), c).await?;
        load::run(client, poll, pending, counts.poll_warmup(), c).await?;
    }
    let mut m = Measured {
        backchannel: [None, None],
        poll: [None, None],
    };
    for round in 0..counts.rounds {
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            let n = counts.backchannel_per_round;
            add(
                &mut m.backchannel[i],
                run(client, &calls[i].0, ok, n, c).await?,
            );
        }
        for i in order {
            let n = counts.poll_per_round;
            add(
                &mut m.poll[i],
                run(client, &calls[i].1, pending, n, c).await?,
            );
        }
    }
    Ok(m)
}

/// A run of `n` requests; none when `n` is 0.
async fn run(
    client: &awc::Client,
    call: &Call,
    expected: StatusCode,
    n: usize,
    c: usize,
) -> Result<Option<Outcome>, String> {
    if n == 0 {
        return Ok(None);
    }
    load::run(client, call, expected, n, c).await.map(Some)
}

fn add(total: &mut Option<Outcome>, run: Option<Outcome>) {
    match (total.as_mut(), run) {
        (Some(total), Some(run)) => total.merge(run),
        (None, run) => *total = run,
        (Some(_), None) => {}
    }
}

/// Issues one request per user to the poll client and returns their `auth_req_id`s.
async fn poll_ids(client: &awc::Client, backchannel: &Call) -> Result<Vec<String>, String> {
    let mut ids = Vec::with_capacity(POLL_IDS);
    for index in 0..POLL_IDS {
        let body = load::once(client, backchannel, index, StatusCode::OK).await?;
        let answer: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| format!("backchannel answer: {e}"))?;
        let id = answer["auth_req_id"]
            .as_str()
            .ok_or("backchannel answer without auth_req_id")?;
        ids.push(id.to_owned());
    }
    Ok(ids)
}

/// Each gateway made exactly the Authlete calls and state operations its requests need, every
/// state operation succeeded, and the gateway answered no poll itself.
fn check(metrics: &str, counts: &Counts) -> Result<(), String> {
    let (issued, polls) = (counts.issued(), counts.polls());
    let mut expected = vec![
        (
            r#"gateway_authlete_requests_total{action="USER_IDENTIFICATION",api="backchannel_authentication"}"#.to_owned(),
            issued,
        ),
        (
            r#"gateway_authlete_requests_total{action="OK",api="issue"}"#.to_owned(),
            issued,
        ),
        (
            r#"gateway_authlete_requests_total{action="BAD_REQUEST",api="token"}"#.to_owned(),
            polls,
        ),
        ("gateway_slow_down_total".to_owned(), 0),
    ];
    let ops = BACKCHANNEL_OPS.map(|op| (op, issued));
    for (op, n) in ops.into_iter().chain(POLL_OPS.map(|op| (op, polls))) {
        let series = format!(r#"gateway_state_operations_total{{op="{op}",result="ok"}}"#);
        expected.push((series, n));
    }
    for (series, want) in expected {
        let got = sample(metrics, &series);
        if got != want as f64 {
            return Err(format!("{series} is {got}, expected {want}"));
        }
    }
    let failed = metrics.lines().find(|line| {
        line.starts_with("gateway_state_operations_total{")
            && !line.contains(r#"result="ok""#)
            && line.rsplit_once(' ').is_some_and(|(_, v)| v != "0")
    });
    match failed {
        Some(line) => Err(format!("a state operation failed: {line}")),
        None => Ok(()),
    }
}
