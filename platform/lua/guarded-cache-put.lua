-- Caches what a read-through miss read, unless a write invalidated the entry meanwhile
-- (platform/guarded-cache.ts readThrough): the generation must still be the one the reader noted
-- before it read MongoDB.
-- KEYS[1]: the cache entry
-- KEYS[2]: its generation
-- ARGV[1]: the generation the reader noted ('' for none)
-- ARGV[2]: the value
-- ARGV[3]: the entry's TTL, s
-- returns: 1 when cached, 0 when the generation changed (nothing written)
if (redis.call('get', KEYS[2]) or '') ~= ARGV[1] then return 0 end
redis.call('set', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
