-- Creates a live approval request (models/auth/approval-state.ts createState): claims its
-- instruction id, writes the request hash, and adds it to the open set of each of its devices.
-- KEYS[1]: the request hash
-- KEYS[2]: the instruction key (instruction_id -> request id), or KEYS[1] again when it has none
-- KEYS[3..]: the open-request sets (sorted by expiry) of its devices of this tenant
-- ARGV[1]: the request id
-- ARGV[2]: the hash's lifetime, ms (expiry + grace)
-- ARGV[3]: the expiry, ms (the open sets' score)
-- ARGV[4]: now, ms (expired members of the open sets are dropped)
-- ARGV[5..]: the hash's field, value pairs
-- returns: 1 when written; 1 without a write when this request already holds the instruction id
--   (a client resending after a lost answer: the request may have been answered meanwhile and must
--   not be reset); 0 when another live request holds the instruction id.
if KEYS[2] ~= KEYS[1] then
  local held = redis.call('get', KEYS[2])
  if held == ARGV[1] then return 1 end
  if held then return 0 end
  redis.call('set', KEYS[2], ARGV[1], 'PX', ARGV[2])
end
redis.call('hset', KEYS[1], unpack(ARGV, 5))
redis.call('pexpire', KEYS[1], ARGV[2])
for i = 3, #KEYS do
  redis.call('zadd', KEYS[i], ARGV[3], ARGV[1])
  redis.call('zremrangebyscore', KEYS[i], '-inf', '(' .. ARGV[4])
  if redis.call('pttl', KEYS[i]) < tonumber(ARGV[2]) then redis.call('pexpire', KEYS[i], ARGV[2]) end
end
return 1
