//! The fleet's outbox in Redis (SPEC §12 "Outbox"): per kind, a hash per message (sealed
//! whole, with its attempt count and lease holder) and a sorted set of due ids scored by the
//! next attempt on Redis's clock. Every change is one script; `nudge` wakes the fleet.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::Value;

use super::{millis, operation_id, RedisState, TTL_GRACE};
use crate::state::outbox::{ClaimBatch, Claimed, OutboxKind, OutboxStore, Reservation};
use crate::state::StateError;

/// The limits of the outbox that every replica applies.
#[derive(Debug, Clone)]
pub(super) struct OutboxPolicy {
    /// `state.redis.outbox_capacity`, per kind: messages plus reserved places.
    pub capacity: usize,
    /// How long a reserved place counts without its message: the `/complete` call it is
    /// reserved for, plus a grace.
    pub reservation_hold: Duration,
}

/// The associated data's purpose of a sealed message: a message of one kind never opens as
/// the other.
fn purpose(kind: OutboxKind) -> &'static str {
    match kind {
        OutboxKind::Notification => "outbox-notification",
        OutboxKind::Webhook => "outbox-webhook",
    }
}

fn unix_millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map(millis).unwrap_or(0)
}

fn reservation_member(reservation: Reservation) -> String {
    format!("{:032x}", reservation.0)
}

impl RedisState {
    /// The claim script's answer, opened; a message that does not open is removed (logged).
    async fn open_claims(&self, kind: OutboxKind, answer: Vec<Value>) -> ClaimBatch {
        let mut values = answer.into_iter();
        let depth = values
            .next()
            .and_then(|v| redis::from_redis_value::<u64>(v).ok())
            .unwrap_or(0);
        let mut claimed = Vec::new();
        let rest: Vec<Value> = values.collect();
        for group in rest.chunks(4) {
            let [id, sealed, attempts, takeover] = group else {
                break;
            };
            let (Ok(id), Ok(sealed)) = (
                redis::from_redis_value::<String>(id.clone()),
                redis::from_redis_value::<Vec<u8>>(sealed.clone()),
            ) else {
                continue;
            };
            let attempts = redis::from_redis_value::<u32>(attempts.clone()).unwrap_or(0);
            let takeover = redis::from_redis_value::<i64>(takeover.clone()).unwrap_or(0) == 1;
            match self.sealer.open(purpose(kind), &sealed) {
                Some(message) => claimed.push(Claimed {
                    id,
                    message,
                    attempts,
                    takeover,
                }),
                None => {
                    log::warn!(
                        "state backend: a {} message does not open with any decision key; it \
                         is removed undelivered (was a key retired too early?)",
                        kind.label()
                    );
                    let _ = self.finish(kind, &id).await;
                }
            }
        }
        ClaimBatch { claimed, depth }
    }

    /// Runs one of the scripts that take the due set and one message, with `args`.
    async fn on_message(
        &self,
        script: fn(&super::Scripts) -> &redis::Script,
        kind: OutboxKind,
        id: &str,
        args: Vec<String>,
    ) -> Result<i64, StateError> {
        let (due, message) = (
            self.keys.outbox_due(kind),
            self.keys.outbox_message(kind, id),
        );
        let scripts = self.scripts.clone();
        self.link
            .run(move |mut c| async move {
                let mut invocation = script(&scripts).key(due);
                invocation.key(message);
                for arg in args {
                    invocation.arg(arg);
                }
                invocation.invoke_async(&mut c).await
            })
            .await
    }
}

impl OutboxStore for RedisState {
    fn message_id(&self, kind: OutboxKind, name: &str) -> String {
        self.keys.outbox_id(kind, name)
    }

    async fn reserve_place(&self, kind: OutboxKind) -> Result<Option<Reservation>, StateError> {
        let reservation = Reservation(operation_id());
        let (due, places) = (self.keys.outbox_due(kind), self.keys.outbox_places(kind));
        let (member, scripts) = (reservation_member(reservation), self.scripts.clone());
        let (capacity, hold) = (self.outbox.capacity, millis(self.outbox.reservation_hold));
        let held: i64 = self
            .link
            .run(move |mut c| async move {
                scripts
                    .outbox_reserve
                    .key(due)
                    .key(places)
                    .arg(member)
                    .arg(capacity)
                    .arg(hold)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok((held == 1).then_some(reservation))
    }

    async fn release_place(
        &self,
        kind: OutboxKind,
        reservation: Reservation,
    ) -> Result<(), StateError> {
        let (places, member) = (
            self.keys.outbox_places(kind),
            reservation_member(reservation),
        );
        self.link
            .run(move |mut c| async move {
                redis::cmd("ZREM")
                    .arg(places)
                    .arg(member)
                    .query_async::<i64>(&mut c)
                    .await
            })
            .await
            .map(drop)
    }

    async fn enqueue(
        &self,
        kind: OutboxKind,
        id: &str,
        message: &[u8],
        expires_at: SystemTime,
        reservation: Option<Reservation>,
    ) -> Result<bool, StateError> {
        let sealed = self
            .sealer
            .seal(purpose(kind), message)
            .ok_or_else(|| StateError::Unavailable("no key seals outbox messages".into()))?;
        let keys = [
            self.keys.outbox_due(kind),
            self.keys.outbox_places(kind),
            self.keys.outbox_message(kind, id),
        ];
        let gone_at = unix_millis(expires_at).saturating_add(millis(TTL_GRACE));
        let reserved = reservation.map(reservation_member).unwrap_or_default();
        let (id, capacity) = (id.to_owned(), self.outbox.capacity);
        let (channel, scripts) = (self.keys.outbox_channel(), self.scripts.clone());
        let stored: i64 = self
            .link
            .run(move |mut c| async move {
                let [due, places, name] = keys;
                scripts
                    .outbox_enqueue
                    .key(due)
                    .key(places)
                    .key(name)
                    .arg(id)
                    .arg(sealed)
                    .arg(gone_at)
                    .arg(reserved)
                    .arg(capacity)
                    .arg(channel)
                    .arg(kind.label())
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(stored == 1)
    }

    async fn claim(&self, kind: OutboxKind, limit: usize) -> Result<ClaimBatch, StateError> {
        let (due, prefix) = (
            self.keys.outbox_due(kind),
            self.keys.outbox_message_prefix(kind),
        );
        let (scripts, replica) = (self.scripts.clone(), self.replica.clone());
        let lease = millis(self.lease);
        let answer: Vec<Value> = self
            .link
            .run(move |mut c| async move {
                scripts
                    .outbox_claim
                    .key(due)
                    .key(prefix)
                    .arg(limit)
                    .arg(lease)
                    .arg(replica)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(self.open_claims(kind, answer).await)
    }

    async fn renew(&self, kind: OutboxKind, id: &str) -> Result<bool, StateError> {
        let args = vec![
            id.to_owned(),
            self.replica.clone(),
            millis(self.lease).to_string(),
        ];
        let renewed = self.on_message(|s| &s.outbox_renew, kind, id, args).await?;
        Ok(renewed == 1)
    }

    async fn retry(
        &self,
        kind: OutboxKind,
        id: &str,
        attempts: u32,
        after: Duration,
    ) -> Result<bool, StateError> {
        let args = vec![
            id.to_owned(),
            self.replica.clone(),
            attempts.to_string(),
            millis(after).to_string(),
        ];
        let rescheduled = self.on_message(|s| &s.outbox_retry, kind, id, args).await?;
        Ok(rescheduled == 1)
    }

    async fn finish(&self, kind: OutboxKind, id: &str) -> Result<bool, StateError> {
        let removed = self
            .on_message(|s| &s.outbox_finish, kind, id, vec![id.to_owned()])
            .await?;
        Ok(removed == 1)
    }

    async fn hand_back(&self, kind: OutboxKind, ids: &[String]) -> Result<u64, StateError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let (due, prefix) = (
            self.keys.outbox_due(kind),
            self.keys.outbox_message_prefix(kind),
        );
        let (scripts, replica) = (self.scripts.clone(), self.replica.clone());
        let (channel, ids) = (self.keys.outbox_channel(), ids.to_vec());
        self.link
            .run(move |mut c| async move {
                let mut invocation = scripts.outbox_hand_back.key(due);
                invocation
                    .key(prefix)
                    .arg(replica)
                    .arg(channel)
                    .arg(kind.label());
                for id in ids {
                    invocation.arg(id);
                }
                invocation.invoke_async(&mut c).await
            })
            .await
    }

    async fn holds_notification(&self, ticket: &str) -> Result<bool, StateError> {
        let kind = OutboxKind::Notification;
        let name = self
            .keys
            .outbox_message(kind, &self.keys.outbox_id(kind, ticket));
        let exists: i64 =
            self.link
                .run(move |mut c| async move {
                    redis::cmd("EXISTS").arg(name).query_async(&mut c).await
                })
                .await?;
        Ok(exists == 1)
    }
}
