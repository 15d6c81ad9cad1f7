-- Turns a completion claim into a tombstone once Authlete answered (SPEC §12), whoever asked:
-- later decisions get 409 without calling Authlete, and the deadline skips.
--
-- KEYS[1]  the claim (see claim_take.lua)
-- ARGV[1]  how long the tombstone stays, in ms (until the request's expiry + 30 s)
-- Returns  1. Setting a value, so a retried call applies once.
redis.call('HSET', KEYS[1], 'done', 1)
redis.call('HDEL', KEYS[1], 'token', 'until')
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
