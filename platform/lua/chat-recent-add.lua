-- Puts a numbered message into its conversation's recent set and takes its number out of flight,
-- in one step, so a reader never sees the number as neither (models/chat/recent-messages.ts).
-- KEYS[1]: the conversation's recent set (score = seq, member = the message's JSON view)
-- KEYS[2]: the conversation's numbers in flight (chat-conversation-next.lua marks them)
-- ARGV[1]: seq
-- ARGV[2]: the message's JSON view
-- ARGV[3]: how many messages the set keeps (older ones are trimmed)
-- ARGV[4]: the set's lifetime, ms
-- returns: 1
redis.call('zadd', KEYS[1], ARGV[1], ARGV[2])
redis.call('zremrangebyrank', KEYS[1], 0, -tonumber(ARGV[3]) - 1)
redis.call('pexpire', KEYS[1], ARGV[4])
redis.call('zrem', KEYS[2], ARGV[1])
return 1
