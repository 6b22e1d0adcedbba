-- Marks a conversation's hot hash stale before its state changes in MongoDB
-- (models/chat/conversation-state.ts changeConversation): readers reload until the change is
-- written back. Only an existing hash is marked (a missing one is reloaded anyway).
-- KEYS[1]: the conversation's state hash
-- returns: 1 when this call set the mark, 0 when it was already there (left by a process that died
--   mid-change), -1 when there is no hash
if redis.call('exists', KEYS[1]) == 0 then return -1 end
return redis.call('hsetnx', KEYS[1], 'stale', '1')
