-- Turns a reserved place into an issued request (SPEC §4 step 4): it counts until the
-- request's expiry, or until a decision releases it.
--
-- KEYS[1]  the subject's places (sorted set, see pending_reserve.lua)
-- ARGV[1]  the place's member (`r:<random id>`)
-- ARGV[2]  the request's member (`k:<hmac of the request key>`)
-- ARGV[3]  the request's lifetime in ms
-- ARGV[4]  the least TTL the set keeps, in ms (the lifetime + 60 s)
-- Returns  1
--
-- Atomic so that the place never counts twice nor not at all, so that the expiry is on Redis's
-- clock, and so that the set never lives shorter than the request it holds. A place whose
-- reservation expired meanwhile is added all the same: the request was issued.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[4]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return 1
