//! The pending places of SPEC §4 step 4 in Redis: one sorted set per subject, reserving and
//! committing one script each, time from Redis's `TIME`.

use std::time::Duration;

use super::{millis, operation_id, RedisState, TTL_GRACE};
use crate::state::{PendingPlaces, Place, RequestKey, StateError};

fn member(place: Place) -> String {
    format!("r:{:032x}", place.0)
}

impl RedisState {
    /// Removes one member of a subject's places; removing leaves the TTL as it was.
    async fn remove_place(&self, name: String, member: String) -> Result<(), StateError> {
        self.link
            .run(move |mut c| async move {
                redis::cmd("ZREM")
                    .arg(name)
                    .arg(member)
                    .query_async::<i64>(&mut c)
                    .await
            })
            .await
            .map(drop)
    }
}

impl PendingPlaces for RedisState {
    async fn reserve(&self, subject: &str) -> Result<Option<Place>, StateError> {
        let place = Place(operation_id());
        let (scripts, name, member) = (
            self.scripts.clone(),
            self.keys.pending(subject),
            member(place),
        );
        let g = self.guards;
        let (hold, ttl) = (
            millis(g.reservation_ttl),
            millis(g.reservation_ttl + TTL_GRACE),
        );
        let held: i64 = self
            .link
            .run(move |mut c| async move {
                scripts
                    .pending_reserve
                    .key(name)
                    .arg(member)
                    .arg(g.max_pending)
                    .arg(hold)
                    .arg(ttl)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok((held == 1).then_some(place))
    }

    async fn commit(
        &self,
        subject: &str,
        place: Place,
        key: &RequestKey,
        lifetime: Duration,
    ) -> Result<(), StateError> {
        let (scripts, name) = (self.scripts.clone(), self.keys.pending(subject));
        let (reserved, issued) = (member(place), self.keys.pending_request(key));
        let (lifetime, ttl) = (millis(lifetime), millis(lifetime + TTL_GRACE));
        self.link
            .run(move |mut c| async move {
                scripts
                    .pending_commit
                    .key(name)
                    .arg(reserved)
                    .arg(issued)
                    .arg(lifetime)
                    .arg(ttl)
                    .invoke_async::<i64>(&mut c)
                    .await
            })
            .await
            .map(drop)
    }

    async fn cancel(&self, subject: &str, place: Place) -> Result<(), StateError> {
        self.remove_place(self.keys.pending(subject), member(place))
            .await
    }

    async fn release(&self, subject: &str, key: &RequestKey) -> Result<(), StateError> {
        self.remove_place(self.keys.pending(subject), self.keys.pending_request(key))
            .await
    }
}
