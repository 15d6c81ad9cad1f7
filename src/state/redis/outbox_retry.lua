-- Schedules a message's next attempt after a failed one (SPEC §12 "Outbox").
--
-- KEYS[1]  the kind's due set;  KEYS[2]  the message (hash, as in outbox_enqueue.lua)
-- ARGV[1]  the message id;  ARGV[2]  this replica's name
-- ARGV[3]  the attempts made so far: also the operation id, since it only ever grows, a
--          retried call records it once
-- ARGV[4]  the wait before the next attempt, in ms
-- Returns  1 when rescheduled, 0 when the replica no longer holds the message.
--
-- Atomic because the holder check, the attempt count and the new score must be one step:
-- whichever replica takes the message next continues the count (and so the backoff).
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
if redis.call('HGET', KEYS[2], 'h') ~= ARGV[2] then
  return 0
end
if tonumber(redis.call('HGET', KEYS[2], 'n') or '0') < tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[2], 'n', ARGV[3])
end
redis.call('HSET', KEYS[2], 'h', '')
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[4]), ARGV[1])
return 1
