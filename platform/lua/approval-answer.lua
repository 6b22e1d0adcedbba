-- Records a device's answer to an approval request and decides it, at most once
-- (models/auth/approval-state.ts recordAnswer; the rule is approval-rules.ts decideQuorum).
-- The answer is taken only while the request is in one of the states its answers leave (the
-- approval machine's approve/deny `from`), unexpired, addressed to this device and not yet
-- answered by this person (one person with several devices answers once). Then the answers are
-- counted: approved once `threshold` people approved; denied at the first denial when deny-first,
-- or as soon as the threshold can no longer be reached.
-- KEYS[1]: the request hash
-- ARGV[1]: the answering device id
-- ARGV[2]: the answer record, JSON (its "effect" is 'approve' or 'deny')
-- ARGV[3]: now, ms
-- ARGV[4]: the states that take an answer, space-separated (approval machine: approve/deny from)
-- ARGV[5]: the state an approval quorum moves to (approve's to)
-- ARGV[6]: the state a denial moves to (deny's to)
-- returns: {'DECIDED', status} | {'RECORDED', approvals, denials} | {'FINAL', status} (not in a
--   state that takes answers) | {'EXPIRED'} | {'NOT_PARTICIPANT'} | {'DUPLICATE'} | {'MISSING'}
--- @include "among"
if redis.call('exists', KEYS[1]) == 0 then return {'MISSING'} end
local st = redis.call('hget', KEYS[1], 'status')
if not among(st, ARGV[4]) then return {'FINAL', st} end
if tonumber(ARGV[3]) >= tonumber(redis.call('hget', KEYS[1], 'expires_at')) then return {'EXPIRED'} end
local participants = cjson.decode(redis.call('hget', KEYS[1], 'participants'))
local person = nil
for _, p in ipairs(participants) do
  for _, d in ipairs(p.device_ids) do if d == ARGV[1] then person = p.person end end
end
if not person then return {'NOT_PARTICIPANT'} end
if redis.call('hsetnx', KEYS[1], 'a:' .. person, ARGV[2]) == 0 then return {'DUPLICATE'} end
local approve, deny = 0, 0
for _, p in ipairs(participants) do
  local a = redis.call('hget', KEYS[1], 'a:' .. p.person)
  if a then
    if cjson.decode(a).effect == 'approve' then approve = approve + 1 else deny = deny + 1 end
  end
end
local threshold = tonumber(redis.call('hget', KEYS[1], 'threshold'))
local status = false
if approve >= threshold then status = ARGV[5]
elseif deny > 0 and redis.call('hget', KEYS[1], 'deny_first') == '1' then status = ARGV[6]
elseif #participants - deny < threshold then status = ARGV[6] end
if status then
  redis.call('hset', KEYS[1], 'status', status, 'decided_at', ARGV[3])
  return {'DECIDED', status}
end
return {'RECORDED', tostring(approve), tostring(deny)}
