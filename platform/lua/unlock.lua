-- Compare-and-delete: frees a lock or a claim only while it still holds its owner's token
-- (platform/claims.ts releaseIfHeld), so a holder whose lease ran out never frees another's.
-- KEYS[1]: the lock key
-- ARGV[1]: the owner's token
-- returns: 1 when deleted, 0 when it held another token or was gone
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
