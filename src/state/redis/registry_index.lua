-- Reads the registry's index (SPEC §5.4, §12): the fleet's pending requests.
--
-- KEYS[1]  the index (sorted set of entry digests, score = expiry in ms on Redis's clock)
-- ARGV[1]  how many members to return at most (0: only the count)
-- Returns  { count of unexpired members, the digests of at most ARGV[1] of them, closest to
--          their expiry first }.
--
-- A script because pruning what expired and reading must be one step on Redis's clock: the
-- index carries no TTL and stays bounded because expired members leave here and decided ones
-- on removal. The entries themselves expire by their own TTL.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local result = { redis.call('ZCARD', KEYS[1]) }
local limit = tonumber(ARGV[1])
if limit > 0 then
  for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, limit - 1)) do
    table.insert(result, member)
  end
end
return result
