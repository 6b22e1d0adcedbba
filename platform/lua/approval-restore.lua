-- Puts back an approval request read from MongoDB when Redis lost it
-- (models/auth/approval-state.ts restoreState), unless a hash exists meanwhile.
-- KEYS[1]: the request hash
-- ARGV[1]: the hash's lifetime, ms
-- ARGV[2..]: the hash's field, value pairs
-- returns: 1 when written, 0 when a hash was there (left alone)
if redis.call('exists', KEYS[1]) == 1 then return 0 end
redis.call('hset', KEYS[1], unpack(ARGV, 2))
redis.call('pexpire', KEYS[1], ARGV[1])
return 1
