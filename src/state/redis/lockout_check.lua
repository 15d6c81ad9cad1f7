-- Whether a subject or hint is locked out by wrong user codes (SPEC §4 step 2).
--
-- KEYS[1]  its failures (sorted set: member per wrong code, score = when, in ms on Redis's
--          clock)
-- ARGV[1]  the window in ms (`ciba.user_code_failure_window_secs`)
-- ARGV[2]  the limit (`ciba.user_code_max_failures`)
-- Returns  1 when the limit is reached within the window, else 0.
--
-- Atomic so that the window is measured on Redis's TIME, one clock for the fleet, against the
-- set as it is at that instant. It only removes failures that left the window.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 1
end
return 0
