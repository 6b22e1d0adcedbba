-- A device's answer to a QR-login session (models/auth/qr-login.ts answerQrSession; the QR-login
-- machine's approve, deny and mismatch). With number matching, an approval must carry the number
-- the browser showed: none is refused, a wrong one ends the session by `mismatch`.
-- KEYS[1]: the session hash
-- ARGV[1]: approve's to
-- ARGV[2]: deny's to
-- ARGV[3]: mismatch's to
-- ARGV[4]: the decision, 'approve' or 'deny'
-- ARGV[5]: now, ms
-- ARGV[6]: the device id
-- ARGV[7]: the relay_user link id
-- ARGV[8]: the backend user id
-- ARGV[9]: the user_socket_hash
-- ARGV[10]: the number the device sent ('' for none)
-- ARGV[11]: the states that take an answer, space-separated (approve/deny/mismatch's from)
-- returns: 'OK' | 'MISMATCH' (moved by mismatch) | 'NEEDS_NUMBER' | 'FINAL' (not in a state that
--   takes an answer) | 'EXPIRED' | 'MISSING'
--- @include "among"
if redis.call('exists', KEYS[1]) == 0 then return 'MISSING' end
if not among(redis.call('hget', KEYS[1], 'status'), ARGV[11]) then return 'FINAL' end
if tonumber(ARGV[5]) >= tonumber(redis.call('hget', KEYS[1], 'expires_at')) then return 'EXPIRED' end
local to = ARGV[2]
local verdict = 'OK'
local match = redis.call('hget', KEYS[1], 'match')
if ARGV[4] == 'approve' then
  to = ARGV[1]
  if match then
    if ARGV[10] == '' then return 'NEEDS_NUMBER' end
    if ARGV[10] ~= match then to = ARGV[3] verdict = 'MISMATCH' end
  end
end
redis.call('hset', KEYS[1], 'status', to, 'device_id', ARGV[6], 'link', ARGV[7], 'backend_user_id', ARGV[8], 'user', ARGV[9])
return verdict
