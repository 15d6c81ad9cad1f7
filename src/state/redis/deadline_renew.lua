-- Renews this replica's lease on a deadline it runs, or gives it back due later (SPEC §12).
--
-- KEYS[1]  the deadlines (see deadline_claim.lua)
-- KEYS[2]  the holders
-- ARGV[1]  the entry digest
-- ARGV[2]  this replica's name
-- ARGV[3]  ms from now until it is due again
-- ARGV[4]  1: keep holding it (renew); 0: give it back (postpone)
-- Returns  1 when this replica held it, else 0 (it was taken over, or the request settled).
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then
  return 0
end
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('HDEL', KEYS[2], ARGV[1])
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
if ARGV[4] == '0' then
  redis.call('HDEL', KEYS[2], ARGV[1])
end
return 1
