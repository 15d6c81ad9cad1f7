-- Records a poll Authlete answered authorization_pending or slow_down (SPEC §3.2).
--
-- KEYS[1]  the poll entry (hash: interval_ms, caller, at)
-- ARGV[1]  the caller digest (32 bytes)
-- ARGV[2]  the poll's arrival in µs on Redis's clock (from poll_check.lua), or "" for now
-- ARGV[3]  the entry's TTL in ms
-- Returns  1, or 0 when the request's result is ready (poll_forget.lua): a pending answer that
--          arrives after the decision records nothing.
--
-- Atomic so that the entry never exists without its TTL, so that "now" is Redis's TIME, and so
-- that the ready mark is read and the entry written as one step. The interval recorded at
-- /issue is kept.
if redis.call('HEXISTS', KEYS[1], 'ready') == 1 then
  return 0
end
local at = ARGV[2]
if at == '' then
  local time = redis.call('TIME')
  at = string.format('%.0f', tonumber(time[1]) * 1000000 + tonumber(time[2]))
end
redis.call('HSET', KEYS[1], 'caller', ARGV[1], 'at', at)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
