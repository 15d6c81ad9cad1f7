-- Gives a leased deadline back, due again after a while (SPEC §12): a deadline that waits for
-- a decision in flight, or one handed back at shutdown (due at once).
--
-- KEYS[1]  the deadlines (see deadline_claim.lua)
-- KEYS[2]  the holders
-- ARGV[1]  the entry digest
-- ARGV[2]  the lease's holder
-- ARGV[3]  ms from now until it is due again
-- Returns  1 when given back, 0 when the lease no longer held it.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then
  return 0
end
redis.call('HDEL', KEYS[2], ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
end
return 1
