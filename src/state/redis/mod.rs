//! The `redis` backend: state shared by every replica, on a Redis 7 server (SPEC §12).
//!
//! Commands travel over one connection — a `ConnectionManager` to one server, or a cluster
//! connection to a Redis Cluster — driven by a runtime on a thread of its own, so the
//! connection does not belong to whichever worker happened to use it first. Every
//! operation is bounded by `command_timeout_ms`; a timeout or an unreachable Redis drops the
//! connection, and while a single prober builds a fresh one (about once a second) the backend
//! fails fast (`link`). Nothing outside this module names a Redis command.

mod claims;
mod connection;
mod endpoint;
mod eviction;
pub mod keys;
mod link;
mod lockout;
mod nudge;
mod outbox;
mod pending;
mod poll;
mod registry;
mod wake;

use std::sync::Arc;
use std::time::Duration;

use prometheus::Gauge;
use redis::Script;

use self::keys::Keys;
use self::link::Link;
pub use self::nudge::Nudges;
use self::nudge::Subscriber;
use self::outbox::OutboxPolicy;
use super::seal::Sealer;
use super::{GuardPolicy, PollPolicy};
use crate::config::{RedisSettings, Secret};

/// How much longer than a request's lifetime its keys live (SPEC §12).
const TTL_GRACE: Duration = Duration::from_secs(60);

/// How long a reserved outbox place counts without its message, unless `reserving_for` says:
/// the default `authlete.complete_timeout_ms` plus the grace.
const RESERVATION_HOLD: Duration = Duration::from_secs(90);

/// The Lua scripts, loaded by `EVALSHA` with a fallback to `SCRIPT LOAD` after `NOSCRIPT`.
struct Scripts {
    poll_check: Script,
    poll_record: Script,
    poll_interval: Script,
    poll_forget: Script,
    pending_reserve: Script,
    pending_commit: Script,
    lockout_begin: Script,
    registry_insert: Script,
    registry_remove: Script,
    registry_index: Script,
    claim_take: Script,
    claim_renew: Script,
    claim_release: Script,
    claim_finish: Script,
    deadline_claim: Script,
    deadline_renew: Script,
    deadline_postpone: Script,
    outbox_reserve: Script,
    outbox_enqueue: Script,
    outbox_claim: Script,
    outbox_renew: Script,
    outbox_retry: Script,
    outbox_finish: Script,
    outbox_hand_back: Script,
}

/// Cheap to clone: every part is shared.
#[derive(Clone)]
pub struct RedisState {
    link: Arc<Link>,
    keys: Keys,
    scripts: Arc<Scripts>,
    policy: PollPolicy,
    guards: GuardPolicy,
    sealer: Arc<Sealer>,
    /// `state.redis.lease_ms`.
    lease: Duration,
    /// The holder of this replica's claims: deadlines and outbox messages (`replica_name`).
    replica: String,
    outbox: OutboxPolicy,
    subscriber: Subscriber,
    /// The subscription to `{prefix}:wake` (SPEC §14), started by `listen_for_wakes`.
    wakes: Subscriber,
}

impl RedisState {
    /// Starts connecting in the background; `up` follows the connection.
    pub fn new(
        settings: &RedisSettings,
        policy: PollPolicy,
        guards: GuardPolicy,
        sealer: Sealer,
        up: Gauge,
    ) -> Result<Self, String> {
        let secret = settings
            .key_hash_secret
            .as_ref()
            .map(Secret::expose)
            .ok_or("state.redis.key_hash_secret is required with state.backend = \"redis\"")?;
        let keys = Keys::new(&settings.key_prefix, secret.as_bytes());
        let link = Link::start(settings, keys.hash_tag(), up)?;
        let replica = replica_name(settings);
        log::info!("state backend redis: this replica holds its claims as {replica}");
        let subscriber =
            Subscriber::new(settings, keys.outbox_channel(), settings.connect_timeout)?;
        let wakes = Subscriber::new(settings, keys.wake_channel(), settings.connect_timeout)?;
        Ok(Self {
            link,
            keys,
            scripts: Arc::new(Scripts {
                poll_check: Script::new(include_str!("poll_check.lua")),
                poll_record: Script::new(include_str!("poll_record.lua")),
                poll_interval: Script::new(include_str!("poll_interval.lua")),
                poll_forget: Script::new(include_str!("poll_forget.lua")),
                pending_reserve: Script::new(include_str!("pending_reserve.lua")),
                pending_commit: Script::new(include_str!("pending_commit.lua")),
                lockout_begin: Script::new(include_str!("lockout_begin.lua")),
                registry_insert: Script::new(include_str!("registry_insert.lua")),
                registry_remove: Script::new(include_str!("registry_remove.lua")),
                registry_index: Script::new(include_str!("registry_index.lua")),
                claim_take: Script::new(include_str!("claim_take.lua")),
                claim_renew: Script::new(include_str!("claim_renew.lua")),
                claim_release: Script::new(include_str!("claim_release.lua")),
                claim_finish: Script::new(include_str!("claim_finish.lua")),
                deadline_claim: Script::new(include_str!("deadline_claim.lua")),
                deadline_renew: Script::new(include_str!("deadline_renew.lua")),
                deadline_postpone: Script::new(include_str!("deadline_postpone.lua")),
                outbox_reserve: Script::new(include_str!("outbox_reserve.lua")),
                outbox_enqueue: Script::new(include_str!("outbox_enqueue.lua")),
                outbox_claim: Script::new(include_str!("outbox_claim.lua")),
                outbox_renew: Script::new(include_str!("outbox_renew.lua")),
                outbox_retry: Script::new(include_str!("outbox_retry.lua")),
                outbox_finish: Script::new(include_str!("outbox_finish.lua")),
                outbox_hand_back: Script::new(include_str!("outbox_hand_back.lua")),
            }),
            policy,
            guards,
            sealer: Arc::new(sealer),
            lease: settings.lease,
            replica,
            outbox: OutboxPolicy {
                capacity: settings.outbox_capacity,
                reservation_hold: RESERVATION_HOLD,
            },
            subscriber,
            wakes,
        })
    }

    /// Reserved outbox places count for `complete_timeout` (the call they are reserved for)
    /// plus 60 s unless their message arrives.
    pub fn reserving_for(mut self, complete_timeout: Duration) -> Self {
        self.outbox.reservation_hold = complete_timeout + TTL_GRACE;
        self
    }

    pub(crate) fn caller_key(&self) -> [u8; 32] {
        self.keys.derive("poll-caller")
    }

    /// Wakes the caller's claim loop when any replica enqueues or hands back a message;
    /// listens on the current tokio runtime.
    pub fn nudges(&self) -> Nudges {
        self.subscriber.listen()
    }

    /// The TTL of every key of a request, in ms.
    fn ttl_ms(&self) -> u64 {
        millis(self.policy.lifetime + TTL_GRACE)
    }
}

/// This replica's name in claims and logs: `state.redis.replica_name`, or host name + pid + a
/// random boot id, so that a restarted process never mistakes its predecessor's claims for its
/// own.
pub fn replica_name(settings: &RedisSettings) -> String {
    if !settings.replica_name.is_empty() {
        return settings.replica_name.clone();
    }
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty() && name.chars().all(|c| c.is_ascii_graphic()))
        .unwrap_or_else(|| "gateway".to_owned());
    let boot: u32 = rand::Rng::gen(&mut rand::thread_rng());
    format!("{host}.{}.{boot:08x}", std::process::id())
}

/// A random operation id: the member a script adds, so that a retried call applies once.
fn operation_id() -> u128 {
    rand::Rng::gen(&mut rand::thread_rng())
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replica_name_is_configured_or_unique_per_process() {
        let mut settings = RedisSettings::default();
        let (a, b) = (replica_name(&settings), replica_name(&settings));
        assert_ne!(a, b, "every start gets a fresh boot id");
        assert!(a.contains(&format!(".{}.", std::process::id())), "{a}");
        assert!(a.chars().all(|c| c.is_ascii_graphic()), "{a}");
        settings.replica_name = "gw-1".into();
        assert_eq!(replica_name(&settings), "gw-1");
    }
}
