//! The state comparison's report: the table, the redis/memory ratios and the state operation
//! times each gateway measured.

use super::{Counts, Measured, BACKCHANNEL_OPS, POLL_IDS, POLL_OPS};
use crate::redis_probe::Server;
use crate::{row, sample, Options};

/// The mean time of each measured state operation as each gateway saw it (its
/// `gateway_state_operation_duration_seconds`), warm-up included.
pub fn operation_times(metrics: &[String]) {
    println!("mean state operation time seen by the gateway, µs (memory / redis):");
    let ops = BACKCHANNEL_OPS.iter().chain(&POLL_OPS);
    let line: Vec<String> = ops
        .map(|op| {
            let mean = |text: &String| {
                let series = |part| {
                    let name =
                        format!(r#"gateway_state_operation_duration_seconds_{part}{{op="{op}"}}"#);
                    sample(text, &name)
                };
                series("sum") / series("count") * 1e6
            };
            let times: Vec<String> = metrics.iter().map(|m| format!("{:.0}", mean(m))).collect();
            format!("{op} {}", times.join(" / "))
        })
        .collect();
    println!("  {}", line.join(", "));
}

pub fn report(o: &Options, counts: &Counts, server: &Server, m: &Measured) {
    println!();
    println!(
        "state backends: memory vs redis {} at {} ({}); two fresh gateways, concurrency {}, \
         workers {}",
        server.version, server.address, server.persistence, o.concurrency, o.workers
    );
    println!(
        "backchannel: {} requests each, polls: {} each, in {} alternating rounds after {} and {} \
         warm-up, {} poll ids",
        counts.backchannel_per_round * counts.rounds,
        counts.poll_per_round * counts.rounds,
        counts.rounds,
        counts.backchannel_warmup(),
        counts.poll_warmup(),
        POLL_IDS
    );
    println!(
        "{:<44} {:>9} {:>9} {:>9} {:>9}",
        "scenario", "req/s", "p50 ms", "p99 ms", "max ms"
    );
    let scenarios = [
        (
            "POST /backchannel/authentication",
            "4 state ops",
            &m.backchannel,
        ),
        ("CIBA poll (authorization_pending)", "2 state ops", &m.poll),
    ];
    for (name, _, pair) in scenarios {
        for (backend, outcome) in ["memory", "redis"].iter().zip(pair) {
            if let Some(o) = outcome {
                row(&format!("{backend}: {name}"), o);
            }
        }
    }
    for (name, ops, [memory, redis]) in scenarios {
        if let (Some(memory), Some(redis)) = (memory, redis) {
            println!(
                "redis vs memory, {name} ({ops}): throughput ratio {:.2}, added p50 {:+.3} ms, \
                 added p99 {:+.3} ms",
                redis.throughput() / memory.throughput(),
                redis.quantile_ms(0.5) - memory.quantile_ms(0.5),
                redis.quantile_ms(0.99) - memory.quantile_ms(0.99),
            );
        }
    }
}
