-- Frees a tenant's delivery slot (workers/platform/tenant-slots.ts), folds the attempt's duration
-- into the tenant's latency EWMA, and trips the circuit after `threshold` consecutive network
-- failures or timeouts, so a dead endpoint stops costing anyone. (The fleet-wide outcome counter for
-- /metrics is another slot on Redis Cluster, so the caller counts it beside the script, not in it.)
-- KEYS[1]: the tenant's in-flight leases
-- KEYS[2]: the tenant's consecutive-failure count
-- KEYS[3]: the tenant's circuit (set while open)
-- KEYS[4]: the tenant's attempt-duration EWMA, ms (kept 10 minutes)
-- ARGV[1]: the lease's member
-- ARGV[2]: the attempt's outcome; '' when no attempt was made (the delivery was already settled)
-- ARGV[3]: 1 when the attempt failed on the network or timed out, else 0
-- ARGV[4]: threshold (consecutive failures that open the circuit)
-- ARGV[5]: cooldownMs (how long the circuit stays open)
-- ARGV[6]: the attempt's duration, ms
-- returns: 1
redis.call('ZREM', KEYS[1], ARGV[1])
if ARGV[2] == '' then return 1 end
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
