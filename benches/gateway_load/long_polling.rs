//! Plain polling against long polling (SPEC §14), for a client that polls at `interval`: two
//! gateways (embedded emulator, real time), `ciba.long_polling` off and on, each running the
//! same CIBA flows at once. Each flow starts a request, then its client polls — waiting
//! `interval` after every `authorization_pending` (and 5 s more after a `slow_down`, CIBA §7.3) —
//! while its device approves through the console after a delay spread evenly over 1..10 s.
//! Reported per mode: Authlete token calls per flow (the gateway's own count), client polls per
//! flow, and the time from sending the approval to the client holding its tokens.

use std::time::{Duration, Instant};

use awc::http::StatusCode;
use serde_json::Value;

use super::scenarios::{self, Gateway};
use super::{fetch, sample};

/// The longest a long poll is held (`ciba.long_poll_timeout_secs`); the client waits longer.
const LONG_POLL_TIMEOUT: Duration = Duration::from_secs(30);
const FIRST_DECISION: Duration = Duration::from_secs(1);
const DECISION_SPREAD: Duration = Duration::from_secs(9);

/// What one flow cost and how long its tokens took.
struct Flow {
    polls: u32,
    decision_to_tokens: Duration,
}

/// Runs `flows` flows on each mode at once and prints the comparison.
pub async fn compare(flows: usize, workers: usize) -> Result<(), String> {
    let client = awc::Client::builder()
        .timeout(LONG_POLL_TIMEOUT + Duration::from_secs(30))
        .finish();
    let mut gateways = Vec::new();
    for long_polling in [false, true] {
        let mut settings = scenarios::settings(workers, flows)?;
        settings.ciba.long_polling = long_polling;
        settings.ciba.long_poll_timeout = LONG_POLL_TIMEOUT;
        gateways.push(Gateway::start(settings).await?);
    }
    let started = Instant::now();
    let runs = gateways.iter().map(|gateway| {
        let client = &client;
        async move {
            let each = (0..flows).map(|i| flow(client, gateway, i, flows));
            futures_util::future::join_all(each).await
        }
    });
    let outcomes = futures_util::future::join_all(runs).await;
    let elapsed = started.elapsed();
    println!(
        "long polling: {flows} CIBA poll-mode flows per mode at once, the client polling at \
         interval, the approval sent {}..{} s after the request",
        FIRST_DECISION.as_secs(),
        (FIRST_DECISION + DECISION_SPREAD).as_secs()
    );
    println!(
        "{:<32} {:>12} {:>12} {:>10} {:>10} {:>10}",
        "mode", "token calls", "client polls", "p50 ms", "p90 ms", "max ms"
    );
    for ((gateway, outcome), mode) in gateways
        .iter()
        .zip(outcomes)
        .zip(["plain polling", "long polling (timeout 30 s)"])
    {
        let outcome: Vec<Flow> = outcome.into_iter().collect::<Result<_, _>>()?;
        let metrics = fetch(&client, &format!("{}/metrics", gateway.admin)).await?;
        let calls: f64 = metrics
            .lines()
            .filter(|l| l.starts_with("gateway_authlete_requests_total{"))
            .filter(|l| l.contains(r#"api="token""#))
            .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
            .sum();
        let polls: u32 = outcome.iter().map(|f| f.polls).sum();
        let mut latencies: Vec<Duration> = outcome.iter().map(|f| f.decision_to_tokens).collect();
        latencies.sort();
        let ms = |q: f64| {
            let at = ((latencies.len() as f64 - 1.0) * q).round() as usize;
            latencies.get(at).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        println!(
            "{mode:<32} {:>12.2} {:>12.2} {:>10.1} {:>10.1} {:>10.1}",
            calls / flows as f64,
            f64::from(polls) / flows as f64,
            ms(0.5),
            ms(0.9),
            ms(1.0)
        );
        let count = sample(&metrics, "gateway_decision_to_token_seconds_count");
        if count > 0.0 {
            let sum = sample(&metrics, "gateway_decision_to_token_seconds_sum");
            println!(
                "{:<32} gateway_decision_to_token_seconds: {count} observations, mean {:.1} ms",
                "",
                sum / count * 1000.0
            );
        }
    }
    println!("measured in {:.1} s", elapsed.as_secs_f64());
    for gateway in &gateways {
        gateway.shutdown.shutdown().await;
    }
    Ok(())
}

/// One flow: the request, the client's polls, the device's approval after its delay.
async fn flow(
    client: &awc::Client,
    gateway: &Gateway,
    i: usize,
    flows: usize,
) -> Result<Flow, String> {
    let authorization = scenarios::basic_authorization();
    let binding = format!("flow {i}");
    let form = format!(
        "scope=openid&login_hint=user{}%40example.com&binding_message=flow%20{i}",
        i % scenarios::USERS
    );
    let ack = post(
        client,
        &format!("{}/backchannel/authentication", gateway.url),
        &form,
        &authorization,
    )
    .await?;
    if ack.0 != StatusCode::OK {
        return Err(format!(
            "backchannel authentication answered {}: {}",
            ack.0, ack.1
        ));
    }
    let auth_req_id = ack.1["auth_req_id"]
        .as_str()
        .ok_or("no auth_req_id")?
        .to_owned();
    let interval = Duration::from_secs(ack.1["interval"].as_u64().unwrap_or(5));
    let after =
        FIRST_DECISION + DECISION_SPREAD.mul_f64(i as f64 / flows.max(2).saturating_sub(1) as f64);

    let device = async {
        actix_web::rt::time::sleep(after).await;
        let feed = fetch(client, &format!("{}/console/requests", gateway.admin)).await?;
        let feed: Value = serde_json::from_str(&feed).map_err(|e| e.to_string())?;
        let request_id = feed
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["binding_message"] == binding.as_str())
            .and_then(|r| r["request_id"].as_str())
            .ok_or("the request is not listed")?
            .to_owned();
        let body = serde_json::json!({"request_id": request_id, "decision": "approve"}).to_string();
        let sent = Instant::now();
        let mut reply = client
            .post(format!("{}/console/decisions", gateway.admin))
            .insert_header(("Content-Type", "application/json"))
            .send_body(body)
            .await
            .map_err(|e| e.to_string())?;
        if reply.status() != StatusCode::NO_CONTENT {
            let text = reply.body().await.unwrap_or_default();
            return Err(format!("the approval got {}: {text:?}", reply.status()));
        }
        Ok::<_, String>(sent)
    };
    let poller = async {
        let form = format!(
            "grant_type=urn%3Aopenid%3Aparams%3Agrant-type%3Aciba&auth_req_id={auth_req_id}"
        );
        let mut wait = interval;
        let mut polls = 0;
        loop {
            polls += 1;
            let (status, body) = post(
                client,
                &format!("{}/token", gateway.url),
                &form,
                &authorization,
            )
            .await?;
            if status == StatusCode::OK {
                return Ok::<_, String>((polls, Instant::now()));
            }
            match body["error"].as_str() {
                Some("authorization_pending") => {}
                Some("slow_down") => wait += Duration::from_secs(5),
                _ => return Err(format!("a poll got {status}: {body}")),
            }
            actix_web::rt::time::sleep(wait).await;
        }
    };
    let (sent, polled) = futures_util::join!(device, poller);
    let (sent, (polls, tokens_at)) = (sent?, polled?);
    Ok(Flow {
        polls,
        decision_to_tokens: tokens_at.saturating_duration_since(sent),
    })
}

async fn post(
    client: &awc::Client,
    url: &str,
    form: &str,
    authorization: &str,
) -> Result<(StatusCode, Value), String> {
    let mut reply = client
        .post(url)
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .insert_header(("Authorization", authorization))
        .send_body(form.to_owned())
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let body = reply.body().await.map_err(|e| e.to_string())?;
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Ok((reply.status(), value))
}
