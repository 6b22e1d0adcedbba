-- The poll reads a QR-login session's outcome once (models/auth/qr-login.ts pollQrSession; the
-- QR-login machine's consume): a compare-and-set on the status, so two polls cannot both read it.
-- KEYS[1]: the session hash
-- ARGV[1]: the status the poll saw (one of consume's from)
-- ARGV[2]: consume's to
-- returns: 1 for the one caller that moved it, else 0
if redis.call('hget', KEYS[1], 'status') == ARGV[1] then
  redis.call('hset', KEYS[1], 'status', ARGV[2])
  return 1
end
return 0
