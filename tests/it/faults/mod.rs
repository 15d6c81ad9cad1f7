//! Upstream faults, case by case (SPEC §3 "Upstream failures", §3.3, §4.1, §5.2, §6): Authlete,
//! the user directory, discovery's stale copy, the device webhook and notification receivers
//! down, slow, resetting, truncating, flooding or trickling. Every case checks what the client
//! gets, that it gets it within the configured time, that nothing of the upstream's text leaks,
//! the metric that counts it, and that the first success after the fault is served.
//!
//! Faults wiremock can make (statuses, headers, delays) use wiremock; the rest use the raw TCP
//! `FaultyServer` of `support`.

mod authlete;
mod directory;
mod discovery;
mod receivers;

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{Fault, Reply};

/// Text that an upstream puts in its answers: it must never reach a client.
pub const LEAK: &str = "upstream-secret-text";

/// Allowance over a configured timeout for the answer to reach the client on a busy machine.
pub const MARGIN: Duration = Duration::from_millis(1000);

/// Asserts that the answer took at least `timeout` (it waited for the deadline) and arrived
/// within `timeout` + `MARGIN`.
pub fn assert_cut_at(case: &str, started: Instant, timeout: Duration) {
    let took = started.elapsed();
    assert!(
        took >= timeout && took < timeout + MARGIN,
        "{case}: answered after {took:?}, the timeout is {timeout:?}"
    );
}

/// Asserts that the answer came before `timeout`: the fault was recognised without waiting for
/// the deadline.
pub fn assert_before(case: &str, started: Instant, timeout: Duration) {
    let took = started.elapsed();
    assert!(
        took < timeout,
        "{case}: answered after {took:?}, not before the timeout of {timeout:?}"
    );
}

/// 503 `temporarily_unavailable` with `retry_after`, no-store JSON, nothing of Authlete's.
pub fn assert_unavailable(case: &str, reply: &Reply, retry_after: &str) {
    assert_eq!(reply.status, 503, "{case}: {}", reply.body);
    reply.assert_no_store_json();
    assert_eq!(
        reply.json(),
        json!({"error": "temporarily_unavailable"}),
        "{case}"
    );
    assert_eq!(reply.header("retry-after"), Some(retry_after), "{case}");
    assert_no_leak(case, reply);
}

/// 500 `server_error`, no-store JSON, no `Retry-After`, nothing of Authlete's.
pub fn assert_server_error(case: &str, reply: &Reply) {
    assert_eq!(reply.status, 500, "{case}: {}", reply.body);
    reply.assert_no_store_json();
    assert_eq!(reply.json(), json!({"error": "server_error"}), "{case}");
    assert_eq!(reply.header("retry-after"), None, "{case}");
    assert_no_leak(case, reply);
}

/// Nothing of an upstream's answer (its marker text, Authlete's result codes and messages)
/// in the body or any header.
pub fn assert_no_leak(case: &str, reply: &Reply) {
    let headers = reply
        .headers
        .iter()
        .map(|(name, value)| format!("{name}: {}", String::from_utf8_lossy(value.as_bytes())));
    for text in std::iter::once(reply.body.clone()).chain(headers) {
        for leak in [LEAK, "resultMessage", "resultCode", "[A0", "[A1"] {
            assert!(!text.contains(leak), "{case}: {leak:?} leaked in {text:?}");
        }
    }
}

/// An Authlete answer whose text must not leak.
pub fn authlete_text(result_code: &str) -> serde_json::Value {
    json!({"resultCode": result_code, "resultMessage": format!("[{result_code}] {LEAK}")})
}

/// The broken answers every upstream is tried with, by name; `garbage` is the start of a JSON
/// answer, holding `LEAK`, that the broken ones cut short.
pub fn broken_answers(garbage: &'static str) -> Vec<(&'static str, Fault)> {
    vec![
        ("no answer at all", Fault::Silent),
        (
            "a body that trickles forever",
            Fault::Trickle {
                every: Duration::from_millis(20),
            },
        ),
        ("a reset before the answer", Fault::ResetBeforeAnswer),
        ("a reset mid-body", Fault::ResetMidBody { sent: garbage }),
        (
            "a close short of Content-Length",
            Fault::CloseMidBody { sent: garbage },
        ),
        (
            "truncated JSON, complete as framed",
            Fault::text(200, garbage),
        ),
        (
            "a body framed by the connection's close",
            Fault::CloseDelimited { body: garbage },
        ),
        (
            "a 2 MiB body",
            Fault::Huge {
                status: 200,
                bytes: 2 << 20,
            },
        ),
        ("a body without end", Fault::Endless),
    ]
}

/// Asserts that the answer to `fault` came when it should: at the timeout when the fault holds
/// the exchange open, else before it.
pub fn assert_timely(case: &str, fault: &Fault, started: Instant, timeout: Duration) {
    if fault.holds_to_timeout() {
        assert_cut_at(case, started, timeout);
    } else {
        assert_before(case, started, timeout);
    }
}
