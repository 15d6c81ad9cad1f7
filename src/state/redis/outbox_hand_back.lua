-- Gives back the messages a stopping replica still holds (SPEC §12 "Shutdown"), so the fleet
-- does not wait for their leases to run out.
--
-- KEYS[1]  the kind's due set
-- KEYS[2]  the name prefix of the kind's messages (as in outbox_claim.lua)
-- ARGV[1]  this replica's name
-- ARGV[2]  the nudge channel, and ARGV[3] the kind, published to it
-- ARGV[4…] the ids the replica holds
-- Returns  how many it gave back.
--
-- Atomic because each holder check and re-scoring must be one step (a lease that ran out and
-- was taken over stays with its new holder). Making a message due now is idempotent.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local given = 0
for i = 4, #ARGV do
  local name = KEYS[2] .. ARGV[i]
  if redis.call('HGET', name, 'h') == ARGV[1] then
    redis.call('HSET', name, 'h', '')
    redis.call('ZADD', KEYS[1], 'XX', now, ARGV[i])
    given = given + 1
  end
end
if given > 0 then
  redis.call('PUBLISH', ARGV[2], ARGV[3])
end
return given
