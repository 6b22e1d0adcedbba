-- Moves a visitor session's token generation on by one, only from the generation the presented
-- token holds, so a refreshed token (or a second refresh racing the first) is refused afterwards
-- (models/chat/visitor-generation.ts). No key means generation 0.
-- KEYS[1]: the session's generation
-- ARGV[1]: the generation the presented token holds
-- ARGV[2]: the key's lifetime, ms (the session's remaining life)
-- returns: the new generation, or -1 when the token's generation is no longer current
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if cur ~= tonumber(ARGV[1]) then return -1 end
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return n
