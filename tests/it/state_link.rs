//! The `redis` backend's link while Redis fails (SPEC §12): operations fail fast — none waits
//! longer than the command timeout, and while the link is down none waits at all —
//! `gateway_state_backend_up` is 0, and once Redis answers again the same backend recovers by
//! itself, on a fresh connection.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use authlete_gateway::config::{RedisSettings, Secret};
use authlete_gateway::state::redis::RedisState;
use authlete_gateway::state::seal::Sealer;
use authlete_gateway::state::{GuardPolicy, PollEntries, PollPolicy, StateError};
use futures_util::future::join_all;
use prometheus::Gauge;

use crate::support::{eventually, RedisServer, Relay};

const COMMAND_TIMEOUT: Duration = Duration::from_millis(300);
/// What a failing operation may take beyond the command timeout (scheduling on a busy host).
const SLACK: Duration = Duration::from_millis(150);

struct Backend {
    state: RedisState,
    up: Gauge,
}

impl Backend {
    fn on(url: &str) -> Self {
        let settings = RedisSettings {
            url: Some(Secret::new(url)),
            key_hash_secret: Some(Secret::new("a key hash secret of at least 32 bytes")),
            connect_timeout: COMMAND_TIMEOUT,
            command_timeout: COMMAND_TIMEOUT,
            ..RedisSettings::default()
        };
        let policy = PollPolicy {
            leeway: Duration::from_millis(500),
            default_interval: Duration::from_secs(5),
            lifetime: Duration::from_secs(600),
        };
        let guards = GuardPolicy {
            max_pending: 5,
            reservation_ttl: Duration::from_secs(60),
            max_failures: 3,
            failure_window: Duration::from_secs(60),
        };
        let up = Gauge::new("up", "up").unwrap();
        let sealer = Sealer::new(&[[3; 32]]);
        let state = RedisState::new(&settings, policy, guards, sealer, up.clone()).unwrap();
        Self { state, up }
    }

    /// One operation and how long it took.
    async fn operate(&self) -> (Result<(), StateError>, Duration) {
        let started = Instant::now();
        let outcome = self
            .state
            .record_interval(&[42; 32], Duration::from_secs(5), None)
            .await;
        (outcome, started.elapsed())
    }

    async fn operates(&self) -> bool {
        self.operate().await.0.is_ok()
    }

    fn up(&self) -> f64 {
        self.up.get()
    }
}

fn addr(server: &RedisServer) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], server.port))
}

#[actix_web::test]
async fn a_redis_restarted_on_the_same_port_serves_the_same_backend_again() {
    let Some(mut redis) = RedisServer::start().await else {
        return;
    };
    let backend = Backend::on(&redis.url);
    assert!(backend.operates().await);
    assert_eq!(backend.up(), 1.0);

    redis.kill();
    for _ in 0..5 {
        let (outcome, took) = backend.operate().await;
        assert!(outcome.is_err());
        assert!(took < COMMAND_TIMEOUT + SLACK, "{took:?}");
        assert_eq!(backend.up(), 0.0);
    }

    redis.restart().await;
    let restarted = Instant::now();
    eventually("the backend operating again", || backend.operates()).await;
    eprintln!("recovered {:?} after Redis restarted", restarted.elapsed());
    assert_eq!(backend.up(), 1.0);
}

#[actix_web::test]
async fn a_silent_listener_times_out_until_a_real_redis_takes_its_port() {
    let Some(port_finder) = RedisServer::start().await else {
        return;
    };
    drop(port_finder);
    // Accepts connections (the kernel does) and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let backend = Backend::on(&format!("redis://127.0.0.1:{port}"));
    let (outcome, took) = backend.operate().await;
    assert!(matches!(outcome, Err(StateError::Timeout)), "{outcome:?}");
    assert!(took < COMMAND_TIMEOUT + SLACK, "{took:?}");
    assert_eq!(backend.up(), 0.0);

    drop(silent);
    let _redis = RedisServer::start_on(port).await;
    eventually("the backend operating on the real Redis", || {
        backend.operates()
    })
    .await;
    assert_eq!(backend.up(), 1.0);
}

#[actix_web::test]
async fn a_half_open_connection_is_replaced_by_a_fresh_one() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let relay = Relay::start(addr(&redis)).await;
    let backend = Backend::on(&format!("redis://{}", relay.addr));
    assert!(backend.operates().await);

    // The connection in use stays open and goes silent; a new one would be relayed.
    relay.silence_open_connections();
    let (outcome, took) = backend.operate().await;
    assert!(matches!(outcome, Err(StateError::Timeout)), "{outcome:?}");
    assert!(took < COMMAND_TIMEOUT + SLACK, "{took:?}");
    assert_eq!(backend.up(), 0.0);

    let lost = Instant::now();
    eventually("the backend operating on a fresh connection", || {
        backend.operates()
    })
    .await;
    eprintln!("reconnected {:?} after the timeout", lost.elapsed());
    assert_eq!(backend.up(), 1.0);
}

#[actix_web::test]
async fn while_redis_is_silent_concurrent_operations_do_not_each_wait_the_timeout() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let backend = Backend::on(&redis.url);
    assert!(backend.operates().await);

    redis.freeze(true);
    // 50 at once on a link that does not know yet: they share one timeout.
    let started = Instant::now();
    let first = join_all((0..50).map(|_| backend.operate())).await;
    assert!(first.iter().all(|(outcome, _)| outcome.is_err()));
    let took = started.elapsed();
    assert!(took < 2 * COMMAND_TIMEOUT, "50 at once took {took:?}");
    assert_eq!(backend.up(), 0.0);

    // Then, for a few probe periods (a probe a second, its PING unanswered), every operation
    // fails at once: one prober waits, callers do not.
    let load = Instant::now();
    while load.elapsed() < Duration::from_millis(2500) {
        let batch = join_all((0..50).map(|_| backend.operate())).await;
        for (outcome, took) in batch {
            assert!(
                matches!(outcome, Err(StateError::Unavailable(_))),
                "{outcome:?}"
            );
            assert!(took < COMMAND_TIMEOUT / 3, "{took:?}");
        }
        assert_eq!(backend.up(), 0.0);
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }

    redis.freeze(false);
    eventually("the backend operating again", || backend.operates()).await;
    assert_eq!(backend.up(), 1.0);
}
