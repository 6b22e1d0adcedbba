/**
 * Fair sharing of delivery workers between tenants, in Redis so it holds across every worker process.
 *
 * ACQUIRE — a tenant may hold at most `cap` in-flight deliveries (a sorted set of leases scored by
 * acquisition time; leases older than the lease time are dropped, so a crashed worker's slots come
 * back), or up to `burst` while its endpoint is fast: its recent attempts averaged under `fastMs`
 * (an EWMA kept by RELEASE) and nothing of it has been in flight longer than `slowMs`. A tenant
 * whose endpoint slows down or hangs falls back to `cap` at once, so it never holds more than `burst`
 * worker slots, and after `slowMs` no more than `cap`. Also answers whether the tenant's circuit is
 * open and the tenant's generation (for the signing-secret cache), in the same round trip.
 *   KEYS: inflight, circuit, gen, latency   ARGV: now, leaseMs, cap, member, burst, fastMs, slowMs
 *   → {granted, oldestLeaseAgeMs, circuitPttlMs, gen}
 *
 * RELEASE — frees the lease, folds the attempt's duration into the tenant's latency EWMA, and trips
 * the circuit after `threshold` consecutive network failures or timeouts, so a dead endpoint stops
 * costing anyone. (The fleet-wide outcome counter for /metrics is another slot on Redis Cluster, so
 * the caller counts it beside the script, not in it.)
 *   KEYS: inflight, failures, circuit, latency   ARGV: member, outcome, failed(1/0), threshold, cooldownMs, durationMs
 */
export const ACQUIRE_SLOT_LUA = `
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
`;

export const RELEASE_SLOT_LUA = `
redis.call('ZREM', KEYS[1], ARGV[1])
if ARGV[2] == '' then return 1 end -- no attempt was made (the delivery was already settled)
local d = tonumber(ARGV[6])
local old = tonumber(redis.call('GET', KEYS[4]) or '')
if old then d = old * 0.8 + d * 0.2 end
redis.call('SET', KEYS[4], string.format('%.1f', d), 'PX', 600000)
if ARGV[3] == '1' then
  local n = redis.call('INCR', KEYS[2])
  redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[5]) * 4)
  if n >= tonumber(ARGV[4]) then
    redis.call('SET', KEYS[3], '1', 'PX', ARGV[5])
    redis.call('DEL', KEYS[2])
  end
else
  redis.call('DEL', KEYS[2])
end
return 1
`;
