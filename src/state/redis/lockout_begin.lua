-- Begins one guess at a user code for a subject or hint (SPEC §4 step 2, the lockout).
--
-- KEYS[1]  its guesses (sorted set: member per wrong or unsettled guess, score = when it
--          began, in ms on Redis's clock)
-- ARGV[1]  the guess's member (a random id): also the operation id, so a retried call counts
--          once
-- ARGV[2]  the window in ms (`ciba.user_code_failure_window_secs`)
-- ARGV[3]  the limit (`ciba.user_code_max_failures`)
-- ARGV[4]  the set's TTL in ms (the window + 60 s)
-- Returns  1 when the guess is counted and may be judged, 0 when the limit is reached (locked).
--
-- Atomic because removing what left the window, counting and adding must be one step: the
-- guess counts before it is judged, so N concurrent guesses for one subject or hint, on any
-- replicas, never get more than the limit judged within the window. A correct guess is removed
-- afterwards (ZREM); a wrong or unsettled one stays until it leaves the window. The set never
-- holds more than the limit and never exists without its TTL.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return 1
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
