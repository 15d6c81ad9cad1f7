//! A closed-loop load generator on awc: a fixed number of requests, a fixed number in flight,
//! every answer checked, every latency kept (so percentiles are exact, not bucketed).

use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

use awc::http::header::{HeaderName, HeaderValue};
use awc::http::{Method, StatusCode};
use bytes::Bytes;

/// One kind of request: the n-th request sends `bodies[n % bodies.len()]`.
pub struct Call {
    pub url: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub bodies: Vec<Bytes>,
}

/// What a run measured.
pub struct Outcome {
    pub requests: usize,
    pub elapsed: Duration,
    /// Sorted ascending, microseconds.
    latencies_us: Vec<u64>,
}

impl Outcome {
    /// Adds another run of the same scenario (throughput over the summed time).
    pub fn merge(&mut self, other: Outcome) {
        self.requests += other.requests;
        self.elapsed += other.elapsed;
        self.latencies_us.extend(other.latencies_us);
        self.latencies_us.sort_unstable();
    }

    pub fn throughput(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    /// The `q` quantile (nearest rank), in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        let n = self.latencies_us.len();
        if n == 0 {
            return 0.0;
        }
        let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
        self.latencies_us[rank - 1] as f64 / 1000.0
    }

    pub fn max_ms(&self) -> f64 {
        self.latencies_us
            .last()
            .map_or(0.0, |us| *us as f64 / 1000.0)
    }
}

/// The load client. Its connection pool holds at least one connection per request in flight,
/// so that every run measures keep-alive traffic, not connection set-up.
pub fn client(concurrency: usize) -> awc::Client {
    awc::Client::builder()
        .connector(awc::Connector::new().limit(concurrency.max(1) * 2))
        .timeout(Duration::from_secs(30))
        .disable_redirects()
        .finish()
}

/// Sends the `index`-th request of `call` once and returns the answer's body if its status is
/// `expected`.
pub async fn once(
    client: &awc::Client,
    call: &Call,
    index: usize,
    expected: StatusCode,
) -> Result<Bytes, String> {
    send(client, call, index, expected).await
}

/// Sends `call` `requests` times with `concurrency` in flight; fails on the first answer that is
/// not `expected` (a benchmark of errors measures nothing).
pub async fn run(
    client: &awc::Client,
    call: &Call,
    expected: StatusCode,
    requests: usize,
    concurrency: usize,
) -> Result<Outcome, String> {
    let next = Cell::new(0usize);
    let latencies = RefCell::new(Vec::with_capacity(requests));
    let started = Instant::now();
    let workers = (0..concurrency.max(1)).map(|_| async {
        loop {
            let index = next.get();
            if index >= requests {
                return Ok::<(), String>(());
            }
            next.set(index + 1);
            let sent = Instant::now();
            send(client, call, index, expected).await?;
            latencies
                .borrow_mut()
                .push(sent.elapsed().as_micros() as u64);
        }
    });
    futures_util::future::try_join_all(workers).await?;
    let elapsed = started.elapsed();
    let mut latencies_us = latencies.into_inner();
    latencies_us.sort_unstable();
    Ok(Outcome {
        requests,
        elapsed,
        latencies_us,
    })
}

async fn send(
    client: &awc::Client,
    call: &Call,
    index: usize,
    expected: StatusCode,
) -> Result<Bytes, String> {
    let body = match call.bodies.len() {
        0 => Bytes::new(),
        n => call.bodies[index % n].clone(),
    };
    let mut request = client.request(Method::POST, &call.url);
    for (name, value) in &call.headers {
        request = request.insert_header((name.clone(), value.clone()));
    }
    let mut response = request
        .send_body(body)
        .await
        .map_err(|e| format!("POST {}: {e}", call.url))?;
    let body = response
        .body()
        .limit(1 << 20)
        .await
        .map_err(|e| format!("POST {}: reading the body: {e}", call.url))?;
    if response.status() != expected {
        return Err(format!(
            "POST {}: expected {expected}, got {}: {}",
            call.url,
            response.status(),
            String::from_utf8_lossy(&body)
        ));
    }
    Ok(body)
}
