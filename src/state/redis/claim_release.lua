-- Releases a completion claim whose call got no answer (SPEC §12): anyone may take it.
--
-- KEYS[1]  the claim (see claim_take.lua)
-- ARGV[1]  the holder's token
-- Returns  1 when released, 0 when the token did not hold it.
local held = redis.call('HMGET', KEYS[1], 'done', 'token')
if held[1] or held[2] ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
return 1
