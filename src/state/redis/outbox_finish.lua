-- Removes a message whose delivery ended (SPEC §12 "Outbox").
--
-- KEYS[1]  the kind's due set;  KEYS[2]  the message (hash, as in outbox_enqueue.lua)
-- ARGV[1]  the message id
-- Returns  1 when this call removed it, 0 when it was gone already.
--
-- Atomic so that the id and the message leave together, and only one of two replicas that
-- both ended a delivery (a lease taken over mid-attempt) reports the outcome. Removing is
-- idempotent.
local removed = redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[1], ARGV[1])
return removed
