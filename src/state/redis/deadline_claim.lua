-- Claims the shared deadlines that fell due (SPEC §5.3, §12).
--
-- KEYS[1]  the deadlines (sorted set: the entry digest of each listed request, score = when
--          its deadline falls due, or when the current holder's lease ends, in ms)
-- KEYS[2]  the holders (hash: entry digest -> the replica that last claimed it)
-- ARGV[1]  this replica's name
-- ARGV[2]  the lease, in ms
-- ARGV[3]  how many to claim at most
-- Returns  { digest, reclaimed, ... }: reclaimed = 1 when another replica had claimed it and
--          its lease ran out (a takeover).
--
-- One script because finding and leasing must be one step: a deadline is run by one replica
-- at a time. Re-scoring is the lease: a holder that dies stops renewing, the score passes, and
-- the next claim on any replica takes it over.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
local claimed = {}
for _, member in ipairs(due) do
  local previous = redis.call('HGET', KEYS[2], member)
  redis.call('HSET', KEYS[2], member, ARGV[1])
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), member)
  table.insert(claimed, member)
  if previous and previous ~= ARGV[1] then
    table.insert(claimed, 1)
  else
    table.insert(claimed, 0)
  end
end
return claimed
