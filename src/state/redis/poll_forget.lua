-- Marks a request whose result is ready (SPEC §3.2): its poll entry goes, and a pending answer
-- that arrives afterwards (to a poll sent before the decision) cannot bring it back.
--
-- KEYS[1]  the poll entry (hash: interval_ms, caller, at; `ready` once the result is ready;
--          `trace` stays for the poll that collects the result)
-- ARGV[1]  the entry's TTL in ms
-- Returns  1
--
-- Atomic so that the mark never exists without its TTL, and so that poll_record.lua sees either
-- the entry or the mark, never a moment with neither.
redis.call('HDEL', KEYS[1], 'caller', 'at', 'interval_ms')
redis.call('HSET', KEYS[1], 'ready', '1')
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
