-- Takes a decided request off the registry (SPEC §5.3, §12).
--
-- KEYS[1]  the entry (string: the sealed listing), named by the HMAC of the ticket
-- KEYS[2]  the index (sorted set of entry digests, scored by expiry)
-- KEYS[3]  the deadlines (sorted set of entry digests)
-- KEYS[4]  the deadlines' holders (hash: entry digest -> replica)
-- ARGV[1]  the entry's digest (its index member)
-- Returns  the sealed listing, or false when it was not listed (or already removed).
--
-- Atomic because the entry and its index member must leave together: no console lists a
-- request whose entry is gone, no entry outlives its member unlisted, and the deadline of a
-- settled request is cancelled. The id's pointer is
-- left to its TTL: it points at nothing once the entry is gone.
local sealed = redis.call('GET', KEYS[1])
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
return sealed
