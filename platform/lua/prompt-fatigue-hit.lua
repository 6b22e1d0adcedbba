-- Push fatigue's sliding window (models/auth/prompt-fatigue.ts countPrompt): counts one prompt to
-- each person, all or nothing. Each person has a log of their prompts' times; prompts older than
-- the window leave it. A person who already had `limit` prompts in the window refuses the whole
-- request, and nothing is counted for anyone.
-- KEYS[1..]: one prompt log (a sorted set scored by time, ms) per person
-- ARGV[1]: the limit (prompts per window)
-- ARGV[2]: the window, ms
-- ARGV[3]: now, ms
-- ARGV[4]: a unique member for this prompt
-- returns: {0, 0} when counted; else {the 1-based index of a person over the limit, ms until a
--   prompt of theirs leaves the window}
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
for i = 1, #KEYS do
  redis.call('zremrangebyscore', KEYS[i], '-inf', now - window)
  if redis.call('zcard', KEYS[i]) >= limit then
    local oldest = tonumber(redis.call('zrange', KEYS[i], 0, 0, 'WITHSCORES')[2])
    return {i, oldest + window - now}
  end
end
for i = 1, #KEYS do
  redis.call('zadd', KEYS[i], now, ARGV[4])
  redis.call('pexpire', KEYS[i], window)
end
return {0, 0}
