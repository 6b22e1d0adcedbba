-- The HMAC gate's Redis side (api/principals/hmac.ts), one script so a signed request costs one
-- Redis round trip:
--   1. the tenant's generation still matches the cached entry (else STALE: reload and retry);
--   2. the signature was not seen inside the window (else REPLAY);
--   3. the signature is valid (computed by the caller; else BADSIG, nothing recorded);
--   4. the sliding-window rate limit has room (else LIMITED with the wait in ms);
--   5. record the signature and count the request.
-- Only accepted requests are recorded or counted, so a forged or rate-limited request cannot make
-- a later genuine one look like a replay.
-- KEYS[1]: the tenant's generation
-- KEYS[2]: the seen-signature key
-- KEYS[3]: the rate counter of the current window
-- KEYS[4]: the rate counter of the previous window
-- ARGV[1]: the generation the caller's cached tenant has
-- ARGV[2]: '1' when the signature is valid, else '0'
-- ARGV[3]: the replay key's lifetime, ms
-- ARGV[4]: the limit (requests per window)
-- ARGV[5]: ms elapsed in the current window
-- ARGV[6]: the window, ms
-- returns: {'STALE', gen} | {'REPLAY'} | {'BADSIG'} | {'LIMITED', wait ms, used} |
--   {'OK', remaining, ms until the window ends}
local gen = redis.call('GET', KEYS[1]) or '0'
if gen ~= ARGV[1] then return {'STALE', gen} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'REPLAY'} end
if ARGV[2] ~= '1' then return {'BADSIG'} end
local limit = tonumber(ARGV[4])
local elapsed = tonumber(ARGV[5])
local window = tonumber(ARGV[6])
local cur = tonumber(redis.call('GET', KEYS[3]) or '0')
local prev = tonumber(redis.call('GET', KEYS[4]) or '0')
local weight = (window - elapsed) / window
local used = math.floor(prev * weight) + cur
if used >= limit then
  local wait
  if cur >= limit or prev == 0 then
    wait = window - elapsed
  else
    -- the previous window's share decays linearly: wait until prev * weight + cur < limit
    wait = math.ceil(window - (limit - cur) * window / prev - elapsed)
  end
  return {'LIMITED', tostring(math.max(wait, 1)), tostring(used)}
end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], window * 2)
return {'OK', tostring(limit - used - 1), tostring(window - elapsed)}
