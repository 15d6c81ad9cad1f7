//! Awaiting what the gateway does in the background (deliveries, timers, caches) instead of
//! sleeping for a guessed while.

use std::future::Future;
use std::time::Duration;

use wiremock::{MockServer, Request};

/// The pause between two looks.
const PAUSE: Duration = Duration::from_millis(10);
/// 10 s of pauses in all: far more than anything awaited here needs, short enough to fail a
/// stuck test.
const LOOKS: u32 = 1000;

/// What one look at a condition found: `true`, or `Some(value)`, ends the wait.
pub trait Found {
    type Value;
    fn found(self) -> Option<Self::Value>;
}

impl Found for bool {
    type Value = ();
    fn found(self) -> Option<()> {
        self.then_some(())
    }
}

impl<T> Found for Option<T> {
    type Value = T;
    fn found(self) -> Option<T> {
        self
    }
}

/// Looks at `condition` until it holds (`true`, or `Some(value)`, which is returned), pausing
/// briefly between looks; panics naming `what` when it still does not hold after 10 s.
pub async fn eventually<F, Fut>(what: &str, mut condition: F) -> <Fut::Output as Found>::Value
where
    F: FnMut() -> Fut,
    Fut: Future,
    Fut::Output: Found,
{
    for _ in 0..LOOKS {
        if let Some(value) = condition().await.found() {
            return value;
        }
        actix_web::rt::time::sleep(PAUSE).await;
    }
    panic!("still waiting for {what} after {:?}", PAUSE * LOOKS);
}

/// Every request `server` has received, once there are at least `count`.
pub async fn received_at_least(server: &MockServer, count: usize) -> Vec<Request> {
    let what = format!("{count} request(s) at {}", server.uri());
    eventually(&what, || async {
        let requests = server.received_requests().await.unwrap_or_default();
        (requests.len() >= count).then_some(requests)
    })
    .await
}
