-- Takes the completion claim of a request (SPEC §5.3, §12).
--
-- KEYS[1]  the claim (hash: `token` and `until` (ms, Redis's clock) while leased; `done` once
--          Authlete answered), named by the HMAC of the ticket
-- ARGV[1]  the caller's operation id (its token)
-- ARGV[2]  the lease, in ms
-- ARGV[3]  the claim's TTL, in ms (the longest request lifetime + 60 s)
-- Returns  { 0, takeover } taken (takeover = 1 when a previous lease ran out unanswered),
--          { 1, 0 } another holder's lease is live, { 2, 0 } Authlete already answered.
--
-- One script because checking and taking must be one step on one clock: two replicas that
-- race for a claim cannot both get it. A retry with the same token (a call that timed out after
-- it was applied) finds it its own.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local held = redis.call('HMGET', KEYS[1], 'done', 'token', 'until')
if held[1] then
  return { 2, 0 }
end
local lease_until = now + tonumber(ARGV[2])
if held[2] == ARGV[1] then
  redis.call('HSET', KEYS[1], 'until', lease_until)
  return { 0, 0 }
end
if held[2] and (tonumber(held[3]) or 0) > now then
  return { 1, 0 }
end
local takeover = 0
if held[2] then
  takeover = 1
end
redis.call('HSET', KEYS[1], 'token', ARGV[1], 'until', lease_until)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return { 0, takeover }
