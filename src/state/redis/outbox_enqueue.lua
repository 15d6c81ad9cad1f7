-- Stores a message and schedules it at once (SPEC §12 "Outbox").
--
-- KEYS[1]  the kind's due set (sorted set: message id, score = next attempt in ms)
-- KEYS[2]  the kind's reservations (sorted set, as in outbox_reserve.lua)
-- KEYS[3]  the message (hash: `m` the sealed message, `n` attempts made, `h` the replica that
--          holds its lease, empty when none)
-- ARGV[1]  the message id (the due set's member): also the operation id, so a retried call
--          stores and schedules once
-- ARGV[2]  the sealed message
-- ARGV[3]  when the message's key expires: its expiry + 60 s, in unix ms
-- ARGV[4]  the reservation it takes, or empty
-- ARGV[5]  the capacity, for a message without a reservation
-- ARGV[6]  the nudge channel, and ARGV[7] the kind, published to it
-- Returns  1 when the message is stored (now or before), 0 when the kind is full.
--
-- Atomic because the message, its schedule and its reservation's release must happen
-- together: a claimer never finds an id without its message, and the place is counted once.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
if redis.call('EXISTS', KEYS[3]) == 1 then
  if ARGV[4] ~= '' then
    redis.call('ZREM', KEYS[2], ARGV[4])
  end
  return 1
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
-- A reservation that outlived its hold still stands for a message Authlete already answered.
if ARGV[4] ~= '' then
  redis.call('ZREM', KEYS[2], ARGV[4])
elseif redis.call('ZCARD', KEYS[1]) + redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then
  return 0
end
redis.call('HSET', KEYS[3], 'm', ARGV[2], 'n', 0, 'h', '')
redis.call('PEXPIREAT', KEYS[3], ARGV[3])
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PUBLISH', ARGV[6], ARGV[7])
return 1
