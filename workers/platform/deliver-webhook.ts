/**
 * Where a callback is signed and sent (SPEC §1.4): one attempt of one delivery. The job carries what
 * the attempt needs (the exact body, the URL, the ids: models/platform/emit-event.ts), so an attempt
 * reads no MongoDB:
 *   1. take a tenant slot (at most N in flight per tenant across all workers, more while its endpoint
 *      is fast; circuit open → wait): a fast tenant's job waits here a moment for one of its own
 *      deliveries in this process to finish, else it steps aside (delayed) without spending an attempt;
 *   2. check the job's URL is where the catalogue sends this event for the tenant's current
 *      callback_url_base (a job added or edited on the queue dashboard or in Redis with another URL
 *      is dead-lettered without a request: the tenant's secret signs only for its own receiver),
 *      sign the body with the tenant's current secret (platform/signing.ts) and POST it
 *      (platform/outbound-http.ts: SSRF guard, timeout, bounded read);
 *   3. release the slot, record the attempt (models/platform/delivery-records.ts, batched), and
 *      decide: succeeded, retry later (BullMQ's backoff, with the schedule and Retry-After), or dead.
 * At-least-once: a crash after the POST but before the record means one more POST of the same event
 * id, which receivers de-duplicate.
 */
import { randomBytes } from 'node:crypto';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { recordAttempt } from '../../models/platform/delivery-records.js';
import type { AttemptRecord, DeliveryStatus } from '../../models/platform/delivery.js';
import { catalogueUrl } from '../../models/platform/emit-event.js';
import type { TenantStore } from '../../models/platform/tenant-store.js';
import type { Config } from '../../platform/config.js';
import { redisKey } from '../../platform/keys.js';
import type { Logger } from '../../platform/logger.js';
import type { AttemptResult, OutboundHttp } from '../../platform/outbound-http.js';
import { signedHeaders } from '../../platform/signing.js';
import type { JobOutcome, JobPayload } from '../../queues/catalogue.js';
import { ACQUIRE_SLOT_LUA, RELEASE_SLOT_LUA } from './delivery-slots.lua.js';

export type DeliveryDeps = { config: Config; logger: Logger; redis: Redis; tenants: TenantStore; http: OutboundHttp };

type SlotRedis = Redis & {
  acquireDeliverySlot(
    k1: string,
    k2: string,
    k3: string,
    k4: string,
    ...argv: (string | number)[]
  ): Promise<[number, number, number, string]>;
  releaseDeliverySlot(k1: string, k2: string, k3: string, k4: string, ...argv: (string | number)[]): Promise<number>;
};

/** A retryable failure: BullMQ's backoff strategy (workers/backoff.ts) waits `delayMs` before the next attempt. */
export class RetryDeliveryError extends Error {
  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message);
  }
}

const MAX_RETRY_AFTER_MS = 24 * 3_600_000;
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
const jitter = (ms: number, spread = 0.2) => Math.round(ms * (1 - spread / 2 + Math.random() * spread));

export function createDeliveryProcessor(deps: DeliveryDeps) {
  const redis = deps.redis as SlotRedis;
  redis.defineCommand('acquireDeliverySlot', { numberOfKeys: 4, lua: ACQUIRE_SLOT_LUA });
  redis.defineCommand('releaseDeliverySlot', { numberOfKeys: 4, lua: RELEASE_SLOT_LUA });
  const { config } = deps;
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

  return async function deliver(
    job: Job,
    token: string | undefined,
    d: JobPayload<'webhook.deliver'>,
    signal: AbortSignal,
  ): Promise<JobOutcome<'webhook.deliver'>> {
    const { tenantId } = d;
    const allowed = job.opts.attempts ?? config.callbackRetryScheduleMs.length;
    // A dead letter's own failed job retried from the dashboard (bull-board "retry") keeps its
    // attempt count: it gets one more attempt, recorded on the same delivery, as a replay would.
    const fromDead = job.attemptsMade >= allowed;

    // 1. A slot for this tenant, or step aside without spending an attempt.
    const member = `${job.id}:${randomBytes(4).toString('hex')}`;
    const acquire = () =>
      redis.acquireDeliverySlot(
        redisKey.deliveryInflight(prefix, tenantId),
        redisKey.deliveryCircuit(prefix, tenantId),
        deps.tenants.genKey(tenantId),
        redisKey.deliveryLatency(prefix, tenantId),
        Date.now(),
        leaseMs,
        config.deliveryTenantConcurrency,
        member,
        config.deliveryTenantBurst,
        FAST_MS,
        SLOW_MS,
      );
    let [granted, oldestAge, circuitPttl, gen] = await acquire();
    for (const until = Date.now() + LOCAL_WAIT_MS; !granted && !circuitPttl && oldestAge < SLOW_MS && Date.now() < until;) {
      await waitForSlot(tenantId, Math.min(50, until - Date.now()));
      [granted, oldestAge, circuitPttl, gen] = await acquire();
    }
    if (!granted) {
      // Circuit open: come back when it closes. Slots busy with slow requests: come back later;
      // busy with fast ones: come back soon. Either way the worker slot goes to another tenant.
      const wait =
        circuitPttl > 0 ? circuitPttl + jitter(500, 1) : oldestAge > 1000 ? jitter(Math.min(oldestAge, leaseMs), 0.5) : jitter(100, 1.5);
      await job.moveToDelayed(Date.now() + wait, token);
      throw new DelayedError();
    }

    // 2. Sign with the tenant's current secret and POST.
    let result: AttemptResult | undefined;
    // This job's attempt (the retry schedule counts these), and the delivery's (replays included).
    const attemptNo = job.attemptsMade + 1;
    const n = d.priorAttempts + attemptNo;
    try {
      let entry = await deps.tenants.get(tenantId);
      if (entry && entry.gen !== gen) entry = await deps.tenants.load(tenantId);
      if (!entry) {
        result = { outcome: 'refused', error: 'tenant no longer exists', durationMs: 0 };
      } else if (catalogueUrl(entry.tenant, d.eventType) !== d.url) {
        result = { outcome: 'refused', error: "url is not the tenant's current callback url for this event", durationMs: 0 };
      } else {
        const headers = {
          ...signedHeaders(tenantId, entry.secrets[0] ?? '', d.body),
          'X-Bloonio-Event-Id': d.eventId,
          'X-Bloonio-Event-Type': d.eventType,
          'X-Bloonio-Delivery-Id': d.deliveryId,
          'X-Bloonio-Delivery-Attempt': String(n),
        };
        result = await deps.http.post(d.url, d.body, headers, { signal });
      }
    } finally {
      // 3a. The slot is released whatever happened (the lease expiry covers a crash here). Only a
      // real attempt counts towards the metrics and the circuit.
      const outcome = result?.outcome ?? '';
      const failed = outcome === 'network_error' || outcome === 'timeout' ? 1 : 0;
      await Promise.all([
        redis.releaseDeliverySlot(
          redisKey.deliveryInflight(prefix, tenantId),
          redisKey.deliveryFailures(prefix, tenantId),
          redisKey.deliveryCircuit(prefix, tenantId),
          redisKey.deliveryLatency(prefix, tenantId),
          member,
          outcome,
          failed,
          config.deliveryCircuitThreshold,
          config.deliveryCircuitCooldownMs,
          result?.durationMs ?? 0,
        ),
        outcome ? redis.hincrby(redisKey.deliveryOutcomes(prefix), outcome, 1) : null,
      ]).finally(() => wake(tenantId));
    }

    // 3b. Record the attempt and decide. (`result` is set: the try block either assigned it or threw.)
    if (!result) throw new Error('unreachable: no attempt result');
    return decide(deps, job, d, result, { attemptNo, n, allowed, fromDead });
  };
}

async function decide(
  deps: DeliveryDeps,
  job: Job,
  d: JobPayload<'webhook.deliver'>,
  result: AttemptResult,
  a: { attemptNo: number; n: number; allowed: number; fromDead: boolean },
): Promise<JobOutcome<'webhook.deliver'>> {
  const schedule = deps.config.callbackRetryScheduleMs;
  const now = new Date();
  const attempt: AttemptRecord = {
    n: a.n,
    at: now,
    duration_ms: result.durationMs,
    outcome: result.outcome,
    status_code: 'statusCode' in result ? result.statusCode : null,
    error: 'error' in result ? result.error : null,
    response_body: 'responseBody' in result ? result.responseBody : null,
  };
  const first = job.attemptsMade === 0 && d.replay === 0;
  const record = (status: DeliveryStatus, nextAttemptAt: Date | null, deadReason: string | null) =>
    recordAttempt(d, { status, attempt, nextAttemptAt, deadReason }, { first, fromDead: a.fromDead });
  const log = deps.logger.child({ delivery_id: d.deliveryId, event_id: d.eventId, tenant_id: d.tenantId, attempt: attempt.n });

  if (result.outcome === 'success') {
    await record('succeeded', null, null);
    log.debug({ status: result.statusCode, ms: result.durationMs }, 'callback delivered');
    return 'succeeded';
  }

  const code = 'statusCode' in result ? result.statusCode : 0;
  const retryable = result.outcome === 'network_error' || result.outcome === 'timeout' || code === 408 || code === 429 || code >= 500;
  if (retryable && a.attemptNo < a.allowed) {
    const scheduled = jitter(schedule[a.attemptNo] ?? schedule[schedule.length - 1] ?? 0, 0.1);
    const retryAfter = 'retryAfterMs' in result && result.retryAfterMs !== null ? Math.min(result.retryAfterMs, MAX_RETRY_AFTER_MS) : 0;
    const delayMs = Math.max(scheduled, retryAfter);
    await record('pending', new Date(now.getTime() + delayMs), null);
    log.info({ outcome: result.outcome, status: code || undefined, retry_in_ms: delayMs }, 'callback attempt failed; will retry');
    throw new RetryDeliveryError(`attempt ${attempt.n} failed (${result.outcome}${code ? ` ${code}` : ''})`, delayMs);
  }

  // Permanent refusal or retries exhausted: the delivery goes to the dead-letter store.
  const reason = retryable
    ? `retries exhausted after ${attempt.n} attempts (last: ${result.outcome}${code ? ` ${code}` : ''})`
    : `${result.outcome}${code ? ` ${code}` : ''}: not retryable`;
  await record('dead', null, reason);
  log.warn({ reason }, 'callback dead-lettered');
  // Failing the job (not completing it) keeps it in BullMQ's failed set, visible on the dashboard.
  throw new UnrecoverableError(`dead-lettered: ${reason}`);
}
