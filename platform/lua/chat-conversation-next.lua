-- Takes a conversation's next sequence number from its hot hash (models/chat/conversation-state.ts)
-- and marks it in flight until its message is in the recent set (chat-recent-add.lua removes the
-- mark), so a reader at a gap can tell a message still being written (wait) from a number nobody
-- will fill (pass over): api/chat/ws/sequencer.ts. Marks of writers that died are forgotten after
-- ARGV[2] ms.
-- KEYS[1]: the conversation's state hash (seq: last number handed out; ceil: end of the lease)
-- KEYS[2]: the conversation's numbers in flight (member = seq, score = Redis time ms)
-- ARGV[1]: the lifetime of both keys, ms (refreshed by every message)
-- ARGV[2]: how long an in-flight mark is kept, ms
-- returns: nil (false) when the caller must reload: the hash is missing or stale, or the lease is
--   used up (the number is not taken); else {status, session, rk, assignee, ticket, seq} with seq
--   the number just taken
if redis.call('exists', KEYS[1]) == 0 or redis.call('hexists', KEYS[1], 'stale') == 1 then return false end
local seq = redis.call('hincrby', KEYS[1], 'seq', 1)
if seq > tonumber(redis.call('hget', KEYS[1], 'ceil')) then
  redis.call('hincrby', KEYS[1], 'seq', -1)
  return false
end
redis.call('pexpire', KEYS[1], ARGV[1])
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('zadd', KEYS[2], now, seq)
redis.call('zremrangebyscore', KEYS[2], '-inf', now - tonumber(ARGV[2]))
redis.call('pexpire', KEYS[2], ARGV[1])
return redis.call('hmget', KEYS[1], 'status', 'session', 'rk', 'assignee', 'ticket', 'seq')
