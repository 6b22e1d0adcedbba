-- Takes one of a tenant's delivery slots (workers/platform/tenant-slots.ts), fair across every
-- worker process: a tenant holds at most `cap` deliveries in flight, or up to `burst` while its
-- endpoint is fast (its recent attempts average under `fastMs`, the EWMA delivery-slot-release.lua
-- keeps, and nothing of it has been in flight longer than `slowMs`). Leases older than the lease
-- time are dropped, so a crashed worker's slots come back. Also answers whether the tenant's circuit
-- is open and the tenant's generation (for the signing-secret cache), in the same round trip.
-- KEYS[1]: the tenant's in-flight leases (sorted set: member = lease, score = when taken, ms)
-- KEYS[2]: the tenant's circuit (present while open)
-- KEYS[3]: the tenant's generation (models/platform/tenant-store.ts)
-- KEYS[4]: the tenant's attempt-duration EWMA, ms
-- ARGV[1]: now, ms
-- ARGV[2]: lease time, ms
-- ARGV[3]: cap (slots of any tenant)
-- ARGV[4]: this lease's member
-- ARGV[5]: burst (slots of a fast tenant)
-- ARGV[6]: fastMs
-- ARGV[7]: slowMs
-- returns: {granted (1/0), oldestLeaseAgeMs (when refused for slots), circuitPttlMs (when the
--   circuit is open, else 0), gen}
local pttl = redis.call('PTTL', KEYS[2])
local gen = redis.call('GET', KEYS[3]) or '0'
if pttl > 0 then return {0, 0, pttl, gen} end
local now = tonumber(ARGV[1])
local lease = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - lease)
local n = redis.call('ZCARD', KEYS[1])
local age = 0
if n > 0 then age = now - tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]) end
local cap = tonumber(ARGV[3])
if n >= cap and n < tonumber(ARGV[5]) and age < tonumber(ARGV[7]) then
  local ewma = tonumber(redis.call('GET', KEYS[4]) or '')
  if ewma and ewma < tonumber(ARGV[6]) then cap = tonumber(ARGV[5]) end
end
if n < cap then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], lease)
  return {1, 0, 0, gen}
end
return {0, age, 0, gen}
