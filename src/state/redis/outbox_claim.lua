-- Leases due messages to one replica (SPEC §12 "Outbox").
--
-- KEYS[1]  the kind's due set (sorted set: message id, score = next attempt in ms; while a
--          replica holds a message, when its lease ends)
-- KEYS[2]  the name prefix of the kind's messages (`<prefix><id>` is a hash as in
--          outbox_enqueue.lua); it carries the hash tag, so every message is on this slot
-- ARGV[1]  how many messages to lease at most
-- ARGV[2]  the lease, in ms
-- ARGV[3]  this replica's name
-- Returns  { depth of the due set, then per leased message: id, sealed message, attempts
--          made, 1 when it was taken over from another replica whose lease ran out else 0 }.
--
-- Atomic because finding due ids and moving them past their lease must be one step: two
-- replicas claiming at once never lease the same message. A message whose hash expired (past
-- its expiry + 60 s) leaves the due set here. The lease needs no operation id: a claim whose
-- answer was lost holds its messages only until their lease runs out.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local result = { 0 }
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, id in ipairs(due) do
  local name = KEYS[2] .. id
  local fields = redis.call('HMGET', name, 'm', 'n', 'h')
  if not fields[1] then
    redis.call('ZREM', KEYS[1], id)
  else
    local holder = fields[3] or ''
    local takeover = 0
    if holder ~= '' and holder ~= ARGV[3] then
      takeover = 1
    end
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), id)
    redis.call('HSET', name, 'h', ARGV[3])
    table.insert(result, id)
    table.insert(result, fields[1])
    table.insert(result, tonumber(fields[2] or '0'))
    table.insert(result, takeover)
  end
end
result[1] = redis.call('ZCARD', KEYS[1])
return result
