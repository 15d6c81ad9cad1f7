-- Records one wrong user code for a subject or hint (SPEC §4 step 2).
--
-- KEYS[1]  its failures (sorted set, see lockout_check.lua)
-- ARGV[1]  the failure's member (a random id): also the operation id, so a retried call counts
--          once
-- ARGV[2]  the window in ms
-- ARGV[3]  the limit: only the newest this many failures can matter, the rest is trimmed
-- ARGV[4]  the set's TTL in ms (the window + 60 s)
-- Returns  1
--
-- Atomic so that the time is Redis's TIME, so that the set stays trimmed to the window and the
-- limit, and so that it never exists without its TTL.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[3]) + 1))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
