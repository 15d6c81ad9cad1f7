//! Every Redis key, built in one place from `state.redis.key_prefix`.
//!
//! Every key starts with `{<key_prefix>}`: one hash tag, so every multi-key script runs on one
//! slot (SPEC §12). Ids in key names are HMAC-SHA256 under `state.redis.key_hash_secret`, in
//! lowercase hex; nothing in a key name or value is an auth_req_id or a credential.
//!
//! | key                      | type | fields                               | TTL              |
//! |--------------------------|------|--------------------------------------|------------------|
//! | `{p}:poll:<hmac(key)>`   | hash | `interval_ms` from `/issue`;         | request lifetime |
//! |                          |      | `caller` (32-byte digest) and `at`   | + 60 s, set      |
//! |                          |      | (µs, `TIME`) of the last poll        | again by every   |
//! |                          |      | answered pending; only `ready` once  | write            |
//! |                          |      | the result is ready                  |                  |
//! | `{p}:pending:<hmac(s)>`  | zset | `r:<random>` per reserved place,     | longest expiry   |
//! |                          |      | `k:<hmac(key)>` per issued request;  | it has held      |
//! |                          |      | score: when it stops counting (ms)   | + 60 s           |
//! | `{p}:codefail:<hmac(w)>` | zset | a random id per user-code guess that | failure window   |
//! |                          |      | is wrong or not yet settled (correct | + 60 s, set by   |
//! |                          |      | ones are removed); score: when it    | every guess      |
//! |                          |      | began (ms); at most the limit        |                  |
//! | `{p}:req:<hmac(t)>`      | str  | the listing, sealed whole (`seal`)   | request lifetime |
//! |                          |      |                                      | + 60 s           |
//! | `{p}:reqid:<hmac(i)>`    | str  | `<hmac(t)>`: the entry of that id    | request lifetime |
//! |                          |      |                                      | + 60 s           |
//! | `{p}:requests`           | zset | `<hmac(t)>` per listed request;      | none: members    |
//! |                          |      | score: its expiry (ms)               | leave on removal |
//! |                          |      |                                      | or once expired  |
//! | `{p}:claim:<hmac(t)>`    | hash | `token`, `until` (ms) while leased;  | longest lifetime |
//! |                          |      | `done` once Authlete answered        | + 60 s; a tomb-  |
//! |                          |      |                                      | stone: expiry +  |
//! |                          |      |                                      | 30 s             |
//! | `{p}:deadlines`          | zset | `<hmac(t)>` per listed request;      | none: members    |
//! |                          |      | score: when its deadline is due, or  | leave with the   |
//! |                          |      | its holder's lease ends (ms)         | entry            |
//! | `{p}:deadline-holders`   | hash | `<hmac(t)>` -> the replica running   | none: fields     |
//! |                          |      | that deadline                        | leave with it    |
//! | `{p}:outbox:<k>:msg:<m>` | hash | `m` the message, sealed whole;       | message expiry   |
//! |                          |      | `n` attempts made; `h` the replica   | + 60 s           |
//! |                          |      | holding its lease (empty: none)      |                  |
//! | `{p}:outbox:<k>:due`     | zset | `<m>` per stored message; score: its | none: members    |
//! |                          |      | next attempt, or its lease's end (ms)| leave when done  |
//! | `{p}:outbox:<k>:places`  | zset | a random id per reserved place;      | none: members    |
//! |                          |      | score: when it stops counting (ms)   | leave when used  |
//! |                          |      |                                      | or once expired  |
//! | `{p}:outbox` (channel)   | -    | pub/sub nudge: the kind enqueued or  | -                |
//! |                          |      | handed back                          |                  |
//! | `{p}:wake` (channel)     | -    | pub/sub wake-up of parked long polls | -                |
//! |                          |      | (SPEC §14): `<cause> <ms> <hmac(key)>`|                 |
//!
//! `<k>` is an outbox kind (`notification`, `webhook`) and `<m>` a message id:
//! `hmac(t)` of the request's ticket for a notification, `hmac(w)` of the `webhook-id` for a
//! webhook message (each with a label of its own).
//!
//! `key` is the request key (SHA-256 of the auth_req_id, `ciba::request_key`), `s` a subject,
//! `w` a subject or a hint (the lockout's, each with a label of its own), `t` an Authlete ticket, `i` a device-facing
//! request id. Each is hashed with a label of its own, so
//! that no two kinds of id can share a digest; user codes are never stored.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::state::{Guesser, OutboxKind, RequestKey};

/// Builds key names; cheap to clone.
#[derive(Clone)]
pub struct Keys {
    /// `{<key_prefix>}`
    tag: String,
    secret: Vec<u8>,
}

impl Keys {
    pub fn new(key_prefix: &str, key_hash_secret: &[u8]) -> Self {
        Self {
            tag: format!("{{{key_prefix}}}"),
            secret: key_hash_secret.to_vec(),
        }
    }

    /// `{<key_prefix>}`: on a cluster, its slot holds every key.
    pub fn hash_tag(&self) -> &str {
        &self.tag
    }

    /// The poll entry of a request (SPEC §3.2).
    pub fn poll(&self, key: &RequestKey) -> String {
        format!("{}:poll:{}", self.tag, hex::encode(self.mac(&[key])))
    }

    /// The pending places of a subject (SPEC §4 step 4).
    pub fn pending(&self, subject: &str) -> String {
        let digest = self.mac(&[b"pending\0", subject.as_bytes()]);
        format!("{}:pending:{}", self.tag, hex::encode(digest))
    }

    /// The member of an issued request in its subject's pending places.
    pub fn pending_request(&self, key: &RequestKey) -> String {
        format!("k:{}", hex::encode(self.mac(&[b"request\0", key])))
    }

    /// The user-code guesses of a subject or hint (SPEC §4 step 2). Subjects and hints are
    /// hashed with labels of their own: a subject spelled like a hint never shares its count.
    pub fn failures(&self, who: Guesser<'_>) -> String {
        let digest = match who {
            Guesser::Subject(subject) => self.mac(&[b"codefail-subject\0", subject.as_bytes()]),
            Guesser::Hint(hint) => self.mac(&[b"codefail-hint\0", hint.as_bytes()]),
        };
        format!("{}:codefail:{}", self.tag, hex::encode(digest))
    }

    /// The digest of a ticket: the name of its registry entry and its index member.
    pub fn ticket_digest(&self, ticket: &str) -> String {
        hex::encode(self.mac(&[b"ticket\0", ticket.as_bytes()]))
    }

    /// The registry entry of the request with this ticket digest (SPEC §5.4).
    pub fn request(&self, ticket_digest: &str) -> String {
        format!("{}:req:{ticket_digest}", self.tag)
    }

    /// The pointer from a device-facing request id to its entry.
    pub fn request_id(&self, id: &str) -> String {
        let digest = self.mac(&[b"request-id\0", id.as_bytes()]);
        format!("{}:reqid:{}", self.tag, hex::encode(digest))
    }

    /// The registry's index: every listed request, scored by expiry.
    pub fn requests(&self) -> String {
        format!("{}:requests", self.tag)
    }

    /// The completion claim of the request with this ticket digest (SPEC §12).
    pub fn claim(&self, ticket_digest: &str) -> String {
        format!("{}:claim:{ticket_digest}", self.tag)
    }

    /// The shared deadlines: every listed request's entry digest, scored by when it is due.
    pub fn deadlines(&self) -> String {
        format!("{}:deadlines", self.tag)
    }

    /// Which replica last claimed each deadline that is being run.
    pub fn deadline_holders(&self) -> String {
        format!("{}:deadline-holders", self.tag)
    }

    /// The id of the outbox message that `name` stands for: a notification's ticket or a
    /// webhook message's `webhook-id`. The same on every replica, so a retried enqueue applies
    /// once and any replica can ask whether a request's notification is stored.
    pub fn outbox_id(&self, kind: OutboxKind, name: &str) -> String {
        let label: &[u8] = match kind {
            OutboxKind::Notification => b"outbox-notification\0",
            OutboxKind::Webhook => b"outbox-webhook\0",
        };
        hex::encode(self.mac(&[label, name.as_bytes()]))
    }

    /// The name prefix of a kind's messages: `outbox_message_prefix(k) + id`.
    pub fn outbox_message_prefix(&self, kind: OutboxKind) -> String {
        format!("{}:outbox:{}:msg:", self.tag, kind.label())
    }

    /// One stored outbox message.
    pub fn outbox_message(&self, kind: OutboxKind, id: &str) -> String {
        format!("{}{id}", self.outbox_message_prefix(kind))
    }

    /// A kind's queue: every stored message, scored by when it is next due.
    pub fn outbox_due(&self, kind: OutboxKind) -> String {
        format!("{}:outbox:{}:due", self.tag, kind.label())
    }

    /// A kind's reserved places.
    pub fn outbox_places(&self, kind: OutboxKind) -> String {
        format!("{}:outbox:{}:places", self.tag, kind.label())
    }

    /// The pub/sub channel that wakes every replica's claim loop.
    pub fn outbox_channel(&self) -> String {
        format!("{}:outbox", self.tag)
    }

    /// The wake id of a request's parked long polls (SPEC §14): what `{p}:wake` carries, so
    /// that neither the auth_req_id nor its plain SHA-256 travels.
    pub fn wake(&self, key: &RequestKey) -> [u8; 32] {
        self.mac(&[b"wake\0", key])
    }

    /// The pub/sub channel on which a settled request wakes the long polls parked for it.
    pub fn wake_channel(&self) -> String {
        format!("{}:wake", self.tag)
    }

    /// A secret for `purpose` derived from `key_hash_secret`, the same on every replica.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        self.mac(&[b"authlete-gateway/state/", purpose.as_bytes()])
    }

    fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.secret) else {
            // HMAC takes keys of any length.
            return [0; 32];
        };
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_carry_the_hash_tag_and_no_id_in_the_clear() {
        let keys = Keys::new("agw", &[7; 32]);
        let key = keys.poll(&[0xab; 32]);
        assert!(key.starts_with("{agw}:poll:"), "{key}");
        assert_eq!(key.len(), "{agw}:poll:".len() + 64);
        assert!(!key.contains(&hex::encode([0xab; 32])));
        assert_ne!(key, Keys::new("agw", &[8; 32]).poll(&[0xab; 32]));
    }

    #[test]
    fn outbox_keys_share_the_hash_tag_and_hash_their_names() {
        let keys = Keys::new("agw", &[7; 32]);
        let id = keys.outbox_id(OutboxKind::Notification, "ticket-1");
        assert_eq!(id.len(), 64);
        assert_ne!(id, keys.outbox_id(OutboxKind::Webhook, "ticket-1"));
        assert_eq!(id, keys.outbox_id(OutboxKind::Notification, "ticket-1"));
        let message = keys.outbox_message(OutboxKind::Notification, &id);
        assert_eq!(message, format!("{{agw}}:outbox:notification:msg:{id}"));
        assert!(keys.outbox_due(OutboxKind::Webhook).starts_with("{agw}:"));
        assert!(keys
            .outbox_places(OutboxKind::Webhook)
            .starts_with("{agw}:"));
        assert!(!message.contains("ticket"));
    }

    #[test]
    fn a_wake_id_is_keyed_and_differs_from_every_key_of_the_request() {
        let keys = Keys::new("agw", &[7; 32]);
        let request = [0xab; 32];
        let wake = hex::encode(keys.wake(&request));
        assert_ne!(wake, hex::encode(request));
        assert!(!keys.poll(&request).contains(&wake));
        assert!(!keys.pending_request(&request).contains(&wake));
        assert_ne!(
            keys.wake(&request),
            Keys::new("agw", &[8; 32]).wake(&request)
        );
        assert_eq!(keys.wake_channel(), "{agw}:wake");
    }

    #[test]
    fn guard_keys_hash_subjects_and_hints() {
        let keys = Keys::new("agw", &[7; 32]);
        let pending = keys.pending("alice");
        assert!(pending.starts_with("{agw}:pending:"), "{pending}");
        assert_eq!(pending.len(), "{agw}:pending:".len() + 64);
        let failures = keys.failures(Guesser::Hint("alice@example.com"));
        assert!(failures.starts_with("{agw}:codefail:"), "{failures}");
        assert!(!failures.contains("alice"));
        assert_ne!(
            keys.pending("alice").rsplit(':').next(),
            keys.failures(Guesser::Subject("alice")).rsplit(':').next()
        );
        // Neither the old `hint:` spelling nor a shared label lets the two meet.
        assert_ne!(
            keys.failures(Guesser::Hint("alice")),
            keys.failures(Guesser::Subject("alice"))
        );
        assert_ne!(
            keys.failures(Guesser::Hint("alice")),
            keys.failures(Guesser::Subject("hint:alice"))
        );
    }
}
