-- Renews a lease on a deadline (SPEC §12).
--
-- KEYS[1]  the deadlines (see deadline_claim.lua)
-- KEYS[2]  the holders
-- ARGV[1]  the entry digest
-- ARGV[2]  the lease's holder
-- ARGV[3]  the lease, in ms
-- Returns  1 when renewed, 0 when the lease no longer holds it (taken over, or the request
--          settled).
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] or not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
return 1
