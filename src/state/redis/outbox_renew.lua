-- Extends a replica's lease on a message while an attempt runs (SPEC §12 "Outbox").
--
-- KEYS[1]  the kind's due set;  KEYS[2]  the message (hash, as in outbox_enqueue.lua)
-- ARGV[1]  the message id;  ARGV[2]  this replica's name;  ARGV[3]  the lease, in ms
-- Returns  1 when renewed, 0 when the replica no longer holds the message.
--
-- Atomic because the holder check and the new score must be one step: a lease that ran out
-- and was taken over is not extended by its former holder. Setting a score applies once.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
if redis.call('HGET', KEYS[2], 'h') ~= ARGV[2] then
  return 0
end
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[3]), ARGV[1])
return 1
