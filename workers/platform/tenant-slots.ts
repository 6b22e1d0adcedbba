/**
 * Fair sharing of delivery workers between tenants, in Redis so it holds across every worker process
 * (platform/lua/delivery-slot-acquire.lua and delivery-slot-release.lua): a tenant holds at most
 * `deliveryTenantConcurrency` deliveries in flight, up to `deliveryTenantBurst` while its endpoint is
 * fast, none while its circuit is open.
 *
 * `take` asks for a slot; a fast tenant's job refused one waits here a moment for one of its own
 * deliveries in this process to finish (woken by `release`) before giving up, and a refusal says how
 * long the job should step aside. `release` frees the slot, feeds the attempt to the tenant's latency
 * and circuit, and counts its outcome for /metrics.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { TenantStore } from '../../models/platform/tenant-store.js';
import type { Config } from '../../platform/config.js';
import { redisKey } from '../../platform/keys.js';
import type { AttemptResult } from '../../platform/outbound-http.js';
import { defineScript } from '../../platform/redis-scripts.js';

/** A tenant whose attempts average under this is fast: it may hold its burst of slots. */
const FAST_MS = 250;
/** Anything of the tenant in flight longer than this: it is slow right now (its base cap applies, and its jobs step aside for longer). */
const SLOW_MS = 1000;
/**
 * How long a fast tenant's job waits in this process for a slot before stepping aside. Stepping aside
 * costs Redis two job moves and the worker slot fetches the next job — with one tenant's backlog at the
 * head of the queue, the next job is the same tenant's and steps aside too: a spin that costs more
 * than the deliveries. A fast tenant's slots free up within milliseconds, so waiting is cheaper.
 */
const LOCAL_WAIT_MS = 250;

const ACQUIRE = defineScript<
  [inflight: string, circuit: string, gen: string, latency: string],
  [now: number, leaseMs: number, cap: number, member: string, burst: number, fastMs: number, slowMs: number],
  [granted: number, oldestLeaseAgeMs: number, circuitPttlMs: number, gen: string]
>('delivery-slot-acquire');
const RELEASE = defineScript<
  [inflight: string, failures: string, circuit: string, latency: string],
  [member: string, outcome: string, failed: 0 | 1, threshold: number, cooldownMs: number, durationMs: number],
  number
>('delivery-slot-release');

/** A slot held (`member` names it for `release`; `gen` is the tenant's generation, for its cached secret), or how long to step aside. */
export type SlotAnswer = { granted: true; member: string; gen: string } | { granted: false; stepAsideMs: number };

export type TenantSlots = {
  /** A slot for `tenantId`'s job `jobId`, waiting briefly in this process when the tenant is fast. */
  take(tenantId: string, jobId: string): Promise<SlotAnswer>;
  /** Frees the slot whatever happened; `result` is the attempt made with it (none: nothing counted). */
  release(tenantId: string, member: string, result: AttemptResult | undefined): Promise<void>;
};

/** Spreads `ms` by ±spread/2, so jobs that stepped aside together do not come back together. */
export const jitter = (ms: number, spread = 0.2) => Math.round(ms * (1 - spread / 2 + Math.random() * spread));

export function createTenantSlots(deps: { config: Config; redis: Redis; tenants: TenantStore }): TenantSlots {
  const { config, redis } = deps;
  const prefix = config.queuePrefix;
  const leaseMs = config.callbackTimeoutMs + 5000;
  // Jobs of this process waiting for one of their tenant's slots, woken one at a time as this
  // process releases one (other processes' releases are seen at the next try, after a short timeout).
  const waiting = new Map<string, (() => void)[]>();
  const wake = (tenantId: string) => {
    const q = waiting.get(tenantId);
    q?.shift()?.();
    if (q && !q.length) waiting.delete(tenantId);
  };
  const waitForSlot = (tenantId: string, ms: number) =>
    new Promise<void>((resolve) => {
      const q = waiting.get(tenantId) ?? [];
      waiting.set(tenantId, q);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const i = q.indexOf(done);
        if (i >= 0) q.splice(i, 1);
        if (!q.length && waiting.get(tenantId) === q) waiting.delete(tenantId);
        resolve();
      }, ms);
      q.push(done);
    });

  return {
    async take(tenantId, jobId) {
      const member = `${jobId}:${randomBytes(4).toString('hex')}`;
      const acquire = () =>
        ACQUIRE.run(
          redis,
          [
            redisKey.deliveryInflight(prefix, tenantId),
            redisKey.deliveryCircuit(prefix, tenantId),
            deps.tenants.genKey(tenantId),
            redisKey.deliveryLatency(prefix, tenantId),
          ],
          [Date.now(), leaseMs, config.deliveryTenantConcurrency, member, config.deliveryTenantBurst, FAST_MS, SLOW_MS],
        );
      let [granted, oldestAge, circuitPttl, gen] = await acquire();
      for (const until = Date.now() + LOCAL_WAIT_MS; !granted && !circuitPttl && oldestAge < SLOW_MS && Date.now() < until;) {
        await waitForSlot(tenantId, Math.min(50, until - Date.now()));
        [granted, oldestAge, circuitPttl, gen] = await acquire();
      }
      if (granted) return { granted: true, member, gen };
      // Circuit open: come back when it closes. Slots busy with slow requests: come back later;
      // busy with fast ones: come back soon. Either way the worker slot goes to another tenant.
      const stepAsideMs =
        circuitPttl > 0 ? circuitPttl + jitter(500, 1) : oldestAge > 1000 ? jitter(Math.min(oldestAge, leaseMs), 0.5) : jitter(100, 1.5);
      return { granted: false, stepAsideMs };
    },

    async release(tenantId, member, result) {
      // Only a real attempt counts towards the metrics and the circuit.
      const outcome = result?.outcome ?? '';
      const failed = outcome === 'network_error' || outcome === 'timeout' ? 1 : 0;
      await Promise.all([
        RELEASE.run(
          redis,
          [
            redisKey.deliveryInflight(prefix, tenantId),
            redisKey.deliveryFailures(prefix, tenantId),
            redisKey.deliveryCircuit(prefix, tenantId),
            redisKey.deliveryLatency(prefix, tenantId),
          ],
          [member, outcome, failed, config.deliveryCircuitThreshold, config.deliveryCircuitCooldownMs, result?.durationMs ?? 0],
        ),
        outcome ? redis.hincrby(redisKey.deliveryOutcomes(prefix), outcome, 1) : null,
      ]).finally(() => wake(tenantId));
    },
  };
}
