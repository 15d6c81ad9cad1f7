-- Claims the shared deadlines that fell due (SPEC §5.3, §12).
--
-- KEYS[1]  the deadlines (sorted set: the entry digest of each listed request, score = when
--          its deadline falls due, or when the current holder's lease ends, in ms)
-- KEYS[2]  the holders (hash: entry digest -> the lease holding it)
-- ARGV[1]  this claim's holder prefix: the replica's name and a random operation id
-- ARGV[2]  the lease, in ms
-- ARGV[3]  how many to claim at most
-- Returns  { digest, holder, reclaimed, ... }: holder names the lease on that deadline;
--          reclaimed = 1 when a previous lease ran out without being released (a takeover).
--
-- One script because finding and leasing must be one step: a deadline is run by one lease at
-- a time. Re-scoring is the lease: a holder that dies stops renewing, the score passes, and
-- the next claim on any replica takes it over. Each deadline gets a holder of its own, so a
-- replica that claims a deadline again (its renewals stalled) does not renew the old lease.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
local claimed = {}
for i, member in ipairs(due) do
  local holder = ARGV[1] .. '/' .. i
  local previous = redis.call('HGET', KEYS[2], member)
  redis.call('HSET', KEYS[2], member, holder)
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), member)
  table.insert(claimed, member)
  table.insert(claimed, holder)
  if previous then
    table.insert(claimed, 1)
  else
    table.insert(claimed, 0)
  end
end
return claimed
