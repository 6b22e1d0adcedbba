-- A conversation's routing state from its hot hash (models/chat/conversation-state.ts), unless the
-- caller must reload it from MongoDB first.
-- KEYS[1]: the conversation's state hash
-- returns: nil (false) when the hash is missing or marked stale (reload); else the fields
--   {status, session, rk, assignee, ticket, seq} (seq: the last number handed out)
if redis.call('exists', KEYS[1]) == 0 or redis.call('hexists', KEYS[1], 'stale') == 1 then return false end
return redis.call('hmget', KEYS[1], 'status', 'session', 'rk', 'assignee', 'ticket', 'seq')
