-- Reserves a place in one kind of the outbox (SPEC §12 "Outbox"), before the message exists:
-- a decision holds one for its notification before /complete is called.
--
-- KEYS[1]  the kind's due set (sorted set: message id, score = next attempt in ms)
-- KEYS[2]  the kind's reservations (sorted set: reservation id, score = when it stops
--          counting, in ms on Redis's clock)
-- ARGV[1]  the reservation id: also the operation id, so a retried call holds one place
-- ARGV[2]  the capacity (`state.redis.outbox_capacity`)
-- ARGV[3]  how long the reservation counts unless a message takes it, in ms
-- Returns  1 when the place is held, 0 when the kind is full.
--
-- Atomic because pruning, counting messages and reservations, and adding must be one step:
-- replicas reserving at once never hold more than the capacity. A reservation whose replica
-- died stops counting when its score passes.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  return 1
end
if redis.call('ZCARD', KEYS[1]) + redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
return 1
