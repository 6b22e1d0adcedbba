-- Ends an approval request without an answer: expired by the expiry job, cancelled by the tenant
-- (models/auth/approval-state.ts endState; the approval machine's expire and cancel).
-- KEYS[1]: the request hash
-- ARGV[1]: the state to move to (the transition's `to`)
-- ARGV[2]: now, ms
-- ARGV[3]: the states it may leave, space-separated (the transition's `from`)
-- ARGV[4]: '1' when the move waits for the expiry (expire), else '0'
-- returns: {'DECIDED', status} | {'FINAL', status} (not in a state it may leave) | {'EARLY'} (the
--   expiry has not passed) | {'MISSING'}
--- @include "among"
if redis.call('exists', KEYS[1]) == 0 then return {'MISSING'} end
local st = redis.call('hget', KEYS[1], 'status')
if not among(st, ARGV[3]) then return {'FINAL', st} end
if ARGV[4] == '1' and tonumber(ARGV[2]) < tonumber(redis.call('hget', KEYS[1], 'expires_at')) then return {'EARLY'} end
redis.call('hset', KEYS[1], 'status', ARGV[1], 'decided_at', ARGV[2])
return {'DECIDED', ARGV[1]}
