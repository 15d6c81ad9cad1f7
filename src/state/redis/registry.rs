//! The request registry (SPEC §5.4, §12) in Redis: each listing sealed whole under the HMAC of
//! its ticket, a pointer from the HMAC of its device-facing id, and one index sorted by expiry
//! for the fleet's console. Inserting and removing are one script each.

use std::time::Duration;

use super::{millis, RedisState, TTL_GRACE};
use crate::state::{Listing, Registry, StateError};

/// The associated data's purpose of sealed listings.
const PURPOSE: &str = "registry";

impl RedisState {
    pub(super) fn open_listing(&self, sealed: &[u8]) -> Option<Listing> {
        let opened = self.sealer.open(PURPOSE, sealed);
        let listing = opened.and_then(|plain| serde_json::from_slice(&plain).ok());
        if listing.is_none() {
            log::warn!(
                "state backend: a registry entry does not open with any decision key; it is \
                 skipped (was a key retired too early?)"
            );
        }
        listing
    }
}

impl Registry for RedisState {
    async fn insert(
        &self,
        listing: &Listing,
        expires_in: Duration,
        deadline_in: Duration,
    ) -> Result<bool, StateError> {
        let plain = serde_json::to_vec(listing)
            .map_err(|e| StateError::Unavailable(format!("registry entry: {e}")))?;
        let sealed = self
            .sealer
            .seal(PURPOSE, &plain)
            .ok_or_else(|| StateError::Unavailable("no key seals registry entries".into()))?;
        let digest = self.keys.ticket_digest(&listing.ticket);
        let (entry, pointer, index, deadlines) = (
            self.keys.request(&digest),
            self.keys.request_id(&listing.id),
            self.keys.requests(),
            self.keys.deadlines(),
        );
        let (lifetime, ttl) = (millis(expires_in), millis(expires_in + TTL_GRACE));
        let deadline = millis(deadline_in);
        let scripts = self.scripts.clone();
        self.link
            .run(move |mut c| async move {
                scripts
                    .registry_insert
                    .key(entry)
                    .key(pointer)
                    .key(index)
                    .key(deadlines)
                    .arg(sealed)
                    .arg(digest)
                    .arg(lifetime)
                    .arg(ttl)
                    .arg(deadline)
                    .invoke_async::<i64>(&mut c)
                    .await
            })
            .await?;
        Ok(true)
    }

    async fn get(&self, id: &str) -> Result<Option<Listing>, StateError> {
        let (keys, pointer) = (self.keys.clone(), self.keys.request_id(id));
        let sealed: Option<Vec<u8>> = self
            .link
            .run(move |mut c| async move {
                let digest: Option<String> =
                    redis::cmd("GET").arg(pointer).query_async(&mut c).await?;
                match digest {
                    Some(digest) => {
                        redis::cmd("GET")
                            .arg(keys.request(&digest))
                            .query_async(&mut c)
                            .await
                    }
                    None => Ok(None),
                }
            })
            .await?;
        // The pointer names an entry by whatever the id is: the listing must carry the id.
        Ok(sealed
            .and_then(|sealed| self.open_listing(&sealed))
            .filter(|listing| listing.id == id))
    }

    async fn remove(&self, ticket: &str) -> Result<Option<Listing>, StateError> {
        let digest = self.keys.ticket_digest(ticket);
        let (entry, index) = (self.keys.request(&digest), self.keys.requests());
        let (deadlines, holders) = (self.keys.deadlines(), self.keys.deadline_holders());
        let scripts = self.scripts.clone();
        let sealed: Option<Vec<u8>> = self
            .link
            .run(move |mut c| async move {
                scripts
                    .registry_remove
                    .key(entry)
                    .key(index)
                    .key(deadlines)
                    .key(holders)
                    .arg(digest)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(sealed.and_then(|sealed| self.open_listing(&sealed)))
    }

    async fn list(&self, limit: usize) -> Result<Vec<Listing>, StateError> {
        let (keys, scripts) = (self.keys.clone(), self.scripts.clone());
        let sealed: Vec<Option<Vec<u8>>> = self
            .link
            .run(move |mut c| async move {
                let index: Vec<redis::Value> = scripts
                    .registry_index
                    .key(keys.requests())
                    .arg(limit)
                    .invoke_async(&mut c)
                    .await?;
                let names: Vec<String> = index
                    .into_iter()
                    .skip(1)
                    .filter_map(|member| redis::from_redis_value::<String>(member).ok())
                    .map(|digest| keys.request(&digest))
                    .collect();
                if names.is_empty() {
                    return Ok(Vec::new());
                }
                redis::cmd("MGET").arg(names).query_async(&mut c).await
            })
            .await?;
        Ok(sealed
            .into_iter()
            .flatten()
            .filter_map(|sealed| self.open_listing(&sealed))
            .collect())
    }

    async fn count(&self) -> Result<u64, StateError> {
        let (index, scripts) = (self.keys.requests(), self.scripts.clone());
        let counted: Vec<u64> = self
            .link
            .run(move |mut c| async move {
                scripts
                    .registry_index
                    .key(index)
                    .arg(0)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(counted.first().copied().unwrap_or(0))
    }
}
