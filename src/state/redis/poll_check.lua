-- The edge polling control's check (SPEC §3.2): is this caller's poll too early?
--
-- KEYS[1]  the poll entry (hash: interval_ms, caller, at, trace)
-- ARGV[1]  the caller digest of this poll (32 bytes)
-- ARGV[2]  the default interval in ms (for ids whose /issue this fleet did not see)
-- ARGV[3]  the leeway in ms
-- Returns  { too_early (1 or 0), now in µs on Redis's clock, trace or false }: the arrival the
--          gateway records if Authlete then answers pending, and the backchannel request's
--          traceparent its poll links to (kept after the result is ready).
--
-- Atomic because the arrival and the comparison must read one clock, Redis's TIME, against the
-- entry as it is at that instant: every replica measures the interval on the same clock. It
-- changes nothing: a poll that is too early does not move the entry.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local entry = redis.call('HMGET', KEYS[1], 'caller', 'at', 'interval_ms', 'trace')
local too_early = 0
if entry[1] and entry[1] == ARGV[1] and entry[2] then
  local interval = tonumber(entry[3]) or tonumber(ARGV[2])
  local minimum = (interval - tonumber(ARGV[3])) * 1000
  if now - tonumber(entry[2]) < minimum then
    too_early = 1
  end
end
return { too_early, now, entry[4] }
