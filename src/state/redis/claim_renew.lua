-- Renews a completion claim while its `/complete` call runs (SPEC §12).
--
-- KEYS[1]  the claim (see claim_take.lua)
-- ARGV[1]  the holder's token
-- ARGV[2]  the lease, in ms
-- Returns  1 when renewed, 0 when the token no longer holds it.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local held = redis.call('HMGET', KEYS[1], 'done', 'token')
if held[1] or held[2] ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'until', now + tonumber(ARGV[2]))
return 1
