-- Lists an issued request in the registry (SPEC §5.4, §12).
--
-- KEYS[1]  the entry (string: the sealed listing), named by the HMAC of the ticket
-- KEYS[2]  the device-facing id's pointer (string: the entry's digest), named by the HMAC of
--          the id
-- KEYS[3]  the index (sorted set: the entry's digest per listed request, score = its expiry
--          in ms on Redis's clock)
-- KEYS[4]  the deadlines (sorted set of entry digests, scored by when each falls due)
-- ARGV[1]  the sealed listing
-- ARGV[2]  the entry's digest (the index member)
-- ARGV[3]  the request's remaining lifetime, in ms
-- ARGV[4]  the TTL of the two per-request keys, in ms (lifetime + 60 s)
-- ARGV[5]  ms from now until the request's deadline
-- Returns  1.
--
-- Atomic because the entry, its pointer and its index member must appear together: a console
-- on any replica lists what it can open, a decision removes what was listed, and no request
-- is acknowledged without a deadline some replica will run. Every write
-- sets a value, so a retried call applies once.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4])
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[4])
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[3]), ARGV[2])
redis.call('ZADD', KEYS[4], now + tonumber(ARGV[5]), ARGV[2])
return 1
