-- Reserves a pending place for a subject (SPEC §4 step 4, the push-bombing guard).
--
-- KEYS[1]  the subject's places (sorted set: member per place or issued request, score = when
--          it stops counting, in ms on Redis's clock)
-- ARGV[1]  the place's member (`r:<random id>`): also the operation id, so a retried call
--          takes one place, not two
-- ARGV[2]  the cap (`ciba.max_pending_per_user`)
-- ARGV[3]  how long the place counts without /issue committing it, in ms
-- ARGV[4]  the least TTL the set keeps, in ms (the reservation's time + 60 s)
-- Returns  1 when the place is held, 0 when the subject is at the cap.
--
-- Atomic because removing what expired, counting and adding must be one step: N concurrent
-- requests for one subject, on any replicas, never hold more than the cap. An uncommitted
-- place frees itself when its score passes.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return 1
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[4]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return 1
