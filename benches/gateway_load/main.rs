//! Load benchmark: what the gateway costs on top of Authlete.
//!
//! One run starts the gateway (release build, `server.workers` = 2, `log.level` = "warn") in front
//! of its embedded Authlete emulator, all on loopback, then measures with the same client, the
//! same request count and the same concurrency:
//!
//! - baseline: the emulator's token API called directly, as the gateway calls it
//!   (`POST /api/{service_id}/auth/token`, Bearer, `{"parameters", "clientId", "clientSecret"}`);
//! - `POST /token` with a `client_credentials` grant through the gateway (one Authlete call);
//! - `POST /backchannel/authentication` through the gateway (Authlete's backchannel
//!   authentication and issue APIs, the user directory, a decision token, the pending registry).
//!
//! and reports the gateway/baseline throughput ratio and the latency the gateway adds. The two
//! token scenarios run in alternating rounds, so that other load on the machine hits both alike.
//! It stops by itself and exits non-zero if any answer is not 200 or the gateway's metrics
//! disagree with the number of calls made.
//!
//! With `--redis-url`, it then compares the state backends (`backends`): two more gateways,
//! `memory` and `redis`, on the CIBA paths that touch state.
//!
//! With `--long-polling-flows N`, it runs only the long polling comparison (`long_polling`):
//! plain polling and long polling side by side, N CIBA flows each, in real time (about 16 s).
//!
//! `cargo bench --bench gateway_load` (options after `--`, e.g. `-- --requests 5000`).

mod backends;
mod load;
mod long_polling;
mod redis_probe;
mod scenarios;

use std::sync::Arc;
use std::time::{Duration, Instant};

use authlete_gateway::clock::SystemClock;
use authlete_gateway::startup::Application;
use awc::http::StatusCode;
use clap::Parser;

use load::{Call, Outcome};

#[derive(Parser)]
#[command(about = "Load benchmark: the gateway against a direct Authlete (emulator) baseline")]
struct Options {
    /// Measured requests of each token scenario (baseline and gateway).
    #[arg(long, default_value_t = 50_000)]
    requests: usize,
    /// Alternating rounds the token requests are split into.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Unmeasured requests of each token scenario before measuring.
    #[arg(long, default_value_t = 5_000)]
    warmup: usize,
    /// Measured backchannel requests (plus a tenth as warm-up); 0 skips the scenario. With
    /// `--redis-url`, also each state backend's.
    #[arg(long, default_value_t = 5_000)]
    backchannel_requests: usize,
    /// With `--redis-url`: measured CIBA polls of each state backend (plus a tenth as warm-up).
    #[arg(long, default_value_t = 20_000)]
    poll_requests: usize,
    /// A Redis server (`redis://host:port`) to compare the `redis` state backend against
    /// `memory` on; this run's keys are removed at the end.
    #[arg(long)]
    redis_url: Option<String>,
    /// Requests in flight.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// The gateway's `server.workers`.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Runs only the long polling comparison, with this many CIBA flows per mode (0: not at all).
    #[arg(long, default_value_t = 0)]
    long_polling_flows: usize,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

fn main() -> std::process::ExitCode {
    let options = Options::parse();
    match actix_web::rt::System::new().block_on(bench(options)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("benchmark failed: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// What the run measured.
struct Results {
    baseline: Outcome,
    token: Outcome,
    backchannel: Option<Outcome>,
    elapsed: Duration,
}

async fn bench(options: Options) -> Result<(), String> {
    if options.long_polling_flows > 0 {
        return long_polling::compare(options.long_polling_flows, options.workers).await;
    }
    let settings = scenarios::settings(options.workers, options.backchannel_requests * 11 / 10)?;
    authlete_gateway::telemetry::init(&settings.log);
    let app = Application::build(settings, Arc::new(SystemClock)).await?;
    let gateway = format!("http://{}", app.public_addr());
    let admin = format!("http://{}", app.admin_addr());
    let emulator = app
        .emulator()
        .ok_or("the embedded emulator did not start")?;
    let direct = scenarios::direct_token(
        &emulator.base_url,
        emulator.service_id,
        &emulator.access_token,
    )?;
    let shutdown = app.shutdown_handle();
    actix_web::rt::spawn(app.run_until_stopped());

    let client = load::client(options.concurrency);
    let results = measure(&options, &client, &direct, &gateway).await;
    let metrics = match &results {
        Ok(_) => Some(fetch(&client, &format!("{admin}/metrics")).await),
        Err(_) => None,
    };
    shutdown.shutdown().await;
    let results = results?;
    if let Some(metrics) = metrics {
        check_metrics(&metrics?, &options)?;
    }
    report(&options, &results);
    match &options.redis_url {
        Some(url) => backends::compare(&options, &client, url).await,
        None => Ok(()),
    }
}

async fn measure(
    options: &Options,
    client: &awc::Client,
    direct: &Call,
    gateway: &str,
) -> Result<Results, String> {
    let (ok, c) = (StatusCode::OK, options.concurrency);
    let started = Instant::now();
    // First: the emulator sweeps its whole store on every backchannel authentication, and the
    // token scenarios fill it with tokens.
    let backchannel = match options.backchannel_requests {
        0 => None,
        n => {
            let call = scenarios::gateway_backchannel(gateway)?;
            load::run(client, &call, ok, n / 10, c).await?;
            Some(load::run(client, &call, ok, n, c).await?)
        }
    };
    let token = scenarios::gateway_token(gateway)?;
    load::run(client, direct, ok, options.warmup, c).await?;
    load::run(client, &token, ok, options.warmup, c).await?;
    let per_round = options.requests / options.rounds.max(1);
    let mut baseline = load::run(client, direct, ok, per_round, c).await?;
    let mut through = load::run(client, &token, ok, per_round, c).await?;
    for _ in 1..options.rounds {
        baseline.merge(load::run(client, direct, ok, per_round, c).await?);
        through.merge(load::run(client, &token, ok, per_round, c).await?);
    }
    Ok(Results {
        baseline,
        token: through,
        backchannel,
        elapsed: started.elapsed(),
    })
}

/// The gateway's own count of Authlete calls must match the requests sent through it.
fn check_metrics(metrics: &str, options: &Options) -> Result<(), String> {
    let rounds = options.rounds.max(1);
    let token = options.warmup + options.requests / rounds * rounds;
    let backchannel = options.backchannel_requests / 10 + options.backchannel_requests;
    let expected = [
        (
            r#"gateway_authlete_requests_total{action="OK",api="token"}"#,
            token,
        ),
        (
            r#"gateway_authlete_requests_total{action="USER_IDENTIFICATION",api="backchannel_authentication"}"#,
            backchannel,
        ),
        (
            r#"gateway_authlete_requests_total{action="OK",api="issue"}"#,
            backchannel,
        ),
    ];
    for (series, want) in expected {
        let got = sample(metrics, series);
        if got != want as f64 {
            return Err(format!("{series} is {got}, expected {want}"));
        }
    }
    Ok(())
}

/// One sample of a Prometheus text exposition; 0 when absent.
fn sample(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == series).then(|| value.parse().ok())?
        })
        .unwrap_or(0.0)
}

fn report(options: &Options, results: &Results) {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "authlete-gateway load benchmark: {cpus} CPUs, loopback, one client thread, concurrency \
         {}, gateway workers {}",
        options.concurrency, options.workers
    );
    println!(
        "token scenarios: {} requests each in {} alternating rounds after {} warm-up; \
         backchannel: {} requests after {} warm-up",
        options.requests / options.rounds.max(1) * options.rounds.max(1),
        options.rounds.max(1),
        options.warmup,
        options.backchannel_requests,
        options.backchannel_requests / 10
    );
    println!(
        "{:<44} {:>9} {:>9} {:>9} {:>9}",
        "scenario", "req/s", "p50 ms", "p99 ms", "max ms"
    );
    let rows = [
        (
            "baseline: emulator /auth/token, direct",
            Some(&results.baseline),
        ),
        (
            "gateway: POST /token (client_credentials)",
            Some(&results.token),
        ),
        (
            "gateway: POST /backchannel/authentication",
            results.backchannel.as_ref(),
        ),
    ];
    for (name, outcome) in rows {
        if let Some(o) = outcome {
            row(name, o);
        }
    }
    let (base, token) = (&results.baseline, &results.token);
    println!(
        "gateway /token vs baseline: throughput ratio {:.2}, added p50 {:+.3} ms, added p99 {:+.3} ms",
        token.throughput() / base.throughput(),
        token.quantile_ms(0.5) - base.quantile_ms(0.5),
        token.quantile_ms(0.99) - base.quantile_ms(0.99),
    );
    if let Some(backchannel) = &results.backchannel {
        println!(
            "gateway /backchannel/authentication (2 Authlete calls) vs baseline: throughput ratio {:.2}",
            backchannel.throughput() / base.throughput()
        );
    }
    println!("measured in {:.1} s", results.elapsed.as_secs_f64());
}

/// One line of a report's table.
fn row(name: &str, o: &Outcome) {
    println!(
        "{name:<44} {:>9.0} {:>9.3} {:>9.3} {:>9.3}",
        o.throughput(),
        o.quantile_ms(0.5),
        o.quantile_ms(0.99),
        o.max_ms()
    );
}

async fn fetch(client: &awc::Client, url: &str) -> Result<String, String> {
    let mut response = client
        .get(url)
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    let body = response
        .body()
        .limit(8 << 20)
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    Ok(String::from_utf8_lossy(&body).into_owned())
}
