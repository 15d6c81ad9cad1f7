-- Records the interval /issue gave a request (SPEC §3.2), for every replica's polling control.
--
-- KEYS[1]  the poll entry (hash: interval_ms, caller, at, trace)
-- ARGV[1]  the interval in ms
-- ARGV[2]  the entry's TTL in ms
-- ARGV[3]  the backchannel request's traceparent, or '' (SPEC §13)
-- Returns  1
--
-- Atomic so that the entry never exists without its TTL.
redis.call('HSET', KEYS[1], 'interval_ms', ARGV[1])
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[1], 'trace', ARGV[3])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
