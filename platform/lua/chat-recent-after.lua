-- What a reader finds after a sequence number: the recent set's messages, when the set reaches back
-- far enough, and the numbers above it still being written (models/chat/recent-messages.ts).
-- KEYS[1]: the conversation's recent set
-- KEYS[2]: the conversation's numbers in flight (member = seq, score = when taken, Redis time ms)
-- ARGV[1]: after (the last number the reader has)
-- ARGV[2]: limit (most messages answered)
-- returns: {reaches, messages, inFlight}: reaches is 0 (and messages empty) when the set does not
--   reach back to after + 1, else 1 and up to limit messages with seq > after, in order; inFlight
--   is a flat list seq, age ms (Redis time) for each number above after still in flight.
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local flying = {}
local marks = redis.call('zrangebyscore', KEYS[2], '-inf', '+inf', 'WITHSCORES')
for i = 1, #marks, 2 do
  if tonumber(marks[i]) > tonumber(ARGV[1]) then
    flying[#flying + 1] = tonumber(marks[i])
    flying[#flying + 1] = now - tonumber(marks[i + 1])
  end
end
local first = redis.call('zrange', KEYS[1], 0, 0, 'WITHSCORES')
if #first == 0 or tonumber(first[2]) > tonumber(ARGV[1]) + 1 then return {0, {}, flying} end
return {1, redis.call('zrangebyscore', KEYS[1], '(' .. ARGV[1], '+inf', 'LIMIT', 0, tonumber(ARGV[2])), flying}
