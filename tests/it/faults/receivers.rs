//! Notification (SPEC §6) and device webhook (SPEC §5.2) receivers failing: silent, resetting,
//! redirecting, throttling, failing with huge or endless bodies. Each failed attempt is counted
//! by its result, retried after the backoff, and the next good answer delivers; what answered
//! 2xx is delivered at once however its body goes, read no further than 4 KiB; a redirect is
//! never followed.

use std::time::{Duration, Instant};

use crate::outbox::webhook::{message, webhook_harness_at};
use crate::outbox::Harness;
use crate::support::{eventually, Fault, FaultyServer};

use super::{assert_before, assert_cut_at};

/// Each attempt's timeout here.
const TIMEOUT: Duration = Duration::from_millis(800);

#[derive(Debug, Clone, Copy)]
enum Receiver {
    /// A ping notification at `/cb`.
    Notification,
    /// The device webhook at `/hook`.
    Webhook,
}

impl Receiver {
    const BOTH: [Receiver; 2] = [Receiver::Notification, Receiver::Webhook];

    fn path(self) -> &'static str {
        match self {
            Receiver::Notification => "/cb",
            Receiver::Webhook => "/hook",
        }
    }

    /// An outbox that sends one message to `server`.
    async fn send_to(self, server: &FaultyServer) -> Harness {
        let url = format!("{}{}", server.uri(), self.path());
        match self {
            Receiver::Notification => {
                let h = Harness::start_with(|s| s.notifications.timeout = TIMEOUT);
                h.send(h.notification(&url)).await;
                h
            }
            Receiver::Webhook => {
                let h = webhook_harness_at(&url, TIMEOUT);
                h.outbox.send_webhook(message(&h));
                h
            }
        }
    }

    /// Attempts counted with `result`.
    fn attempts(self, h: &Harness, result: &str) -> f64 {
        match self {
            Receiver::Notification => h.attempts("ping", result),
            Receiver::Webhook => h.series(&format!(
                "gateway_webhook_attempts_total{{result=\"{result}\"}}"
            )),
        }
    }

    /// Messages that ended with `outcome`.
    fn ended(self, h: &Harness, outcome: &str) -> f64 {
        match self {
            Receiver::Notification => h.count("ping", outcome),
            Receiver::Webhook => h.series(&format!(
                "gateway_webhook_messages_total{{outcome=\"{outcome}\",type=\"authentication_request\"}}"
            )),
        }
    }

    async fn counted(self, h: &Harness, what: &str, counted: impl Fn(&Harness) -> bool) {
        let what = format!("{self:?}: {what}");
        eventually(&what, || std::future::ready(counted(h))).await;
    }
}

/// The attempt results of SPEC §8.
const RESULTS: [&str; 6] = ["2xx", "3xx", "4xx", "5xx", "timeout", "connect_error"];

/// Asserts every attempt result's count: `expected` lists the non-zero ones.
fn assert_attempts(receiver: Receiver, h: &Harness, case: &str, expected: &[(&str, f64)]) {
    for result in RESULTS {
        let want = expected
            .iter()
            .find(|(r, _)| *r == result)
            .map_or(0.0, |(_, n)| *n);
        assert_eq!(
            receiver.attempts(h, result),
            want,
            "{receiver:?}, {case}: attempts with result {result}"
        );
    }
}

#[actix_web::test]
async fn a_failed_attempt_is_counted_by_its_result_and_retried_until_delivered() {
    let cases = [
        ("no answer at all", Fault::Silent, "timeout"),
        (
            "a reset before the answer",
            Fault::ResetBeforeAnswer,
            "connect_error",
        ),
        (
            "503 with a 2 MiB body",
            Fault::Huge {
                status: 503,
                bytes: 2 << 20,
            },
            "5xx",
        ),
        ("408", Fault::status_with(408, &[]), "4xx"),
        (
            "429 with Retry-After",
            Fault::status_with(429, &[("Retry-After", "1")]),
            "4xx",
        ),
    ];
    for receiver in Receiver::BOTH {
        for (case, fault, result) in &cases {
            let server = FaultyServer::start(
                receiver.path(),
                vec![fault.clone(), Fault::status_with(204, &[])],
            )
            .await;
            let started = Instant::now();
            let h = receiver.send_to(&server).await;
            receiver
                .counted(&h, case, |h| receiver.attempts(h, result) == 1.0)
                .await;
            if *result == "timeout" {
                assert_cut_at(case, started, TIMEOUT);
            } else {
                assert_before(case, started, TIMEOUT);
            }
            assert_eq!(receiver.ended(&h, "delivered"), 0.0, "{receiver:?}, {case}");
            h.end_backoff().await;
            receiver
                .counted(&h, case, |h| receiver.ended(h, "delivered") == 1.0)
                .await;
            assert_attempts(receiver, &h, case, &[(result, 1.0), ("2xx", 1.0)]);
            assert_eq!(receiver.ended(&h, "failed"), 0.0, "{receiver:?}, {case}");
            assert_eq!(server.requests(), 2, "{receiver:?}, {case}");
        }
    }
}

#[actix_web::test]
async fn a_2xx_is_delivered_at_once_however_its_body_goes() {
    let cut = "{\"upstream\":\"";
    // (case, fault, whether the body holds the attempt until its timeout)
    let cases = [
        (
            "a 2 MiB body",
            Fault::Huge {
                status: 200,
                bytes: 2 << 20,
            },
            false,
        ),
        ("a body without end", Fault::Endless, false),
        ("a reset mid-body", Fault::ResetMidBody { sent: cut }, false),
        (
            "a close short of Content-Length",
            Fault::CloseMidBody { sent: cut },
            false,
        ),
        (
            "a body that trickles forever",
            Fault::Trickle {
                every: Duration::from_millis(20),
            },
            true,
        ),
    ];
    for receiver in Receiver::BOTH {
        for (case, fault, trickles) in &cases {
            let server = FaultyServer::start(receiver.path(), vec![fault.clone()]).await;
            let started = Instant::now();
            let h = receiver.send_to(&server).await;
            receiver
                .counted(&h, case, |h| receiver.ended(h, "delivered") == 1.0)
                .await;
            if *trickles {
                // Read until the attempt's deadline, and no longer.
                assert_cut_at(case, started, TIMEOUT);
            } else {
                // Read no further than 4 KiB: an endless body does not hold the attempt.
                assert_before(case, started, TIMEOUT);
            }
            assert_attempts(receiver, &h, case, &[("2xx", 1.0)]);
            assert_eq!(server.requests(), 1, "{receiver:?}, {case}: no retry");
        }
    }
}

#[actix_web::test]
async fn a_redirect_is_never_followed_it_ends_a_notification_and_a_webhook_retries() {
    for receiver in Receiver::BOTH {
        let redirect = Fault::status_with(302, &[("Location", "/elsewhere")]);
        let server = FaultyServer::start(
            receiver.path(),
            vec![redirect, Fault::status_with(204, &[])],
        )
        .await;
        let h = receiver.send_to(&server).await;
        receiver
            .counted(&h, "the redirect", |h| receiver.attempts(h, "3xx") == 1.0)
            .await;
        match receiver {
            // SPEC §6: 3xx is a permanent failure.
            Receiver::Notification => {
                receiver
                    .counted(&h, "failed", |h| receiver.ended(h, "failed") == 1.0)
                    .await;
                h.outbox.drain(Duration::from_secs(5)).await;
                assert_attempts(receiver, &h, "302", &[("3xx", 1.0)]);
                assert_eq!(server.requests(), 1, "not followed, not retried");
            }
            // SPEC §5.2: any answer but a 2xx is retried until the deadline.
            Receiver::Webhook => {
                h.end_backoff().await;
                receiver
                    .counted(&h, "delivered", |h| receiver.ended(h, "delivered") == 1.0)
                    .await;
                assert_attempts(receiver, &h, "302", &[("3xx", 1.0), ("2xx", 1.0)]);
                assert_eq!(server.requests(), 2, "retried, not followed");
                assert_eq!(server.served(), 2, "both at the webhook's own path");
            }
        }
    }
}
