/**
 * Delivering one callback attempt (SPEC §1.4). The job carries only ids; the delivery record in
 * MongoDB is the state, moved with guarded updates:
 *   1. load the delivery; return early if it is no longer pending (a duplicate job, a replay race);
 *   2. take a tenant slot (at most N in flight per tenant, circuit open → wait) or step aside;
 *   3. sign the stored body with the tenant's current secret and POST it;
 *   4. release the slot, record the attempt, and decide: succeeded, retry later, or dead letter.
 * At-least-once: a crash after the POST but before the record means one more POST of the same
 * event id, which receivers de-duplicate.
 */
import { randomBytes } from 'node:crypto';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { DeliveryModel, type AttemptRecord, type DeliveryDoc } from '../../models/platform/delivery.js';
import type { TenantStore } from '../../models/platform/tenant-store.js';
import type { AttemptResult, OutboundHttp } from '../../platform/outbound-http.js';
import type { Config } from '../../platform/config.js';
import type { Logger } from '../../platform/logger.js';
import { redisKey } from '../../platform/keys.js';
import { signedHeaders } from '../../platform/signing.js';
import { deliveryJobId, type JobPayload } from '../../queues/catalogue.js';
import { ACQUIRE_SLOT_LUA, RELEASE_SLOT_LUA } from './delivery-slots.lua.js';

export type DeliveryDeps = { config: Config; logger: Logger; redis: Redis; tenants: TenantStore; http: OutboundHttp };

type SlotRedis = Redis & {
  acquireDeliverySlot(k1: string, k2: string, k3: string, ...argv: (string | number)[]): Promise<[number, number, number, string]>;
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
const jitter = (ms: number, spread = 0.2) => Math.round(ms * (1 - spread / 2 + Math.random() * spread));

export function createDeliveryProcessor(deps: DeliveryDeps) {
  const redis = deps.redis as SlotRedis;
  redis.defineCommand('acquireDeliverySlot', { numberOfKeys: 3, lua: ACQUIRE_SLOT_LUA });
  redis.defineCommand('releaseDeliverySlot', { numberOfKeys: 4, lua: RELEASE_SLOT_LUA });
  const { config } = deps;
  const prefix = config.queuePrefix;
  const leaseMs = config.callbackTimeoutMs + 5000;

  return async function deliver(
    job: Job,
    token: string | undefined,
    payload: JobPayload<'webhook.deliver'>,
    signal: AbortSignal,
  ): Promise<string> {
    const { deliveryId, tenantId } = payload;
    // 1. State first: a job for a finished delivery does nothing. (Reading before taking a slot
    // keeps slow reads out of the lease: on FerretDB, slot-first measured 1/s against 6/s.)
    let delivery = await DeliveryModel.findOne({ _id: deliveryId, tenant_id: tenantId }).lean<DeliveryDoc>();
    if (!delivery) return 'missing';
    if (delivery.status === 'dead' && job.id === deliveryJobId(delivery._id, delivery.replay_count)) {
      // The dead letter's own failed job was retried from the dashboard (bull-board "retry"): one
      // more attempt, as a replay through the admin API would give, recorded on the same delivery.
      delivery = await DeliveryModel.findOneAndUpdate(
        { _id: deliveryId, tenant_id: tenantId, status: 'dead' },
        { $set: { status: 'pending', dead_at: null, dead_reason: null, next_attempt_at: new Date() } },
        { new: true },
      ).lean<DeliveryDoc>();
      if (!delivery) return 'already-replayed';
    }
    if (delivery.status !== 'pending') return `already-${delivery.status}`;

    // 2. A slot for this tenant, or step aside without spending an attempt.
    const member = `${job.id}:${randomBytes(4).toString('hex')}`;
    const [granted, oldestAge, circuitPttl, gen] = await redis.acquireDeliverySlot(
      redisKey.deliveryInflight(prefix, tenantId),
      redisKey.deliveryCircuit(prefix, tenantId),
      deps.tenants.genKey(tenantId),
      Date.now(),
      leaseMs,
      config.deliveryTenantConcurrency,
      member,
    );
    if (!granted) {
      // Circuit open: come back when it closes. Slots busy with slow requests: come back later;
      // busy with fast ones: come back soon. Either way the worker slot goes to another tenant.
      const wait =
        circuitPttl > 0 ? circuitPttl + jitter(500, 1) : oldestAge > 1000 ? jitter(Math.min(oldestAge, leaseMs), 0.5) : jitter(100, 1.5);
      await job.moveToDelayed(Date.now() + wait, token);
      throw new DelayedError();
    }

    // 3. Sign with the tenant's current secret and POST.
    let result: AttemptResult | undefined;
    try {
      let entry = await deps.tenants.get(tenantId);
      if (entry && entry.gen !== gen) entry = await deps.tenants.load(tenantId);
      if (!entry) {
        result = { outcome: 'refused', error: 'tenant no longer exists', durationMs: 0 };
      } else {
        const headers = {
          ...signedHeaders(tenantId, entry.secrets[0] ?? '', delivery.body),
          'X-Bloonio-Event-Id': delivery.event_id,
          'X-Bloonio-Event-Type': delivery.event_type,
          'X-Bloonio-Delivery-Id': delivery._id,
          'X-Bloonio-Delivery-Attempt': String(delivery.attempt_count + 1),
        };
        result = await deps.http.post(delivery.url, delivery.body, headers, { signal });
      }
    } finally {
      // 4a. The slot is released whatever happened (the lease expiry covers a crash here). Only a
      // real attempt counts towards the metrics and the circuit.
      const outcome = result?.outcome ?? '';
      const failed = outcome === 'network_error' || outcome === 'timeout' ? 1 : 0;
      await redis.releaseDeliverySlot(
        redisKey.deliveryInflight(prefix, tenantId),
        redisKey.deliveryFailures(prefix, tenantId),
        redisKey.deliveryCircuit(prefix, tenantId),
        redisKey.deliveryOutcomes(prefix),
        member,
        outcome,
        failed,
        config.deliveryCircuitThreshold,
        config.deliveryCircuitCooldownMs,
      );
    }

    // 4b. Record the attempt and decide. (`result` is set: the try block either assigned it or threw.)
    if (!result) throw new Error('unreachable: no attempt result');
    return recordAttempt(deps, job, delivery, result);
  };
}

async function recordAttempt(deps: DeliveryDeps, job: Job, delivery: DeliveryDoc, result: AttemptResult): Promise<string> {
  const schedule = deps.config.callbackRetryScheduleMs;
  const now = new Date();
  const attempt: AttemptRecord = {
    n: delivery.attempt_count + 1,
    at: now,
    duration_ms: result.durationMs,
    outcome: result.outcome,
    status_code: 'statusCode' in result ? result.statusCode : null,
    error: 'error' in result ? result.error : null,
    response_body: 'responseBody' in result ? result.responseBody : null,
  };
  const guard = { _id: delivery._id, tenant_id: delivery.tenant_id, status: 'pending' as const };
  const push = { $push: { attempts: attempt }, $inc: { attempt_count: 1 } };
  const log = deps.logger.child({
    delivery_id: delivery._id,
    event_id: delivery.event_id,
    tenant_id: delivery.tenant_id,
    attempt: attempt.n,
  });

  if (result.outcome === 'success') {
    await DeliveryModel.updateOne(guard, { ...push, $set: { status: 'succeeded', delivered_at: now, next_attempt_at: null } });
    log.debug({ status: result.statusCode, ms: result.durationMs }, 'callback delivered');
    return 'succeeded';
  }

  const code = 'statusCode' in result ? result.statusCode : 0;
  const retryable = result.outcome === 'network_error' || result.outcome === 'timeout' || code === 408 || code === 429 || code >= 500;
  const attemptsAllowed = job.opts.attempts ?? schedule.length;
  if (retryable && job.attemptsMade + 1 < attemptsAllowed) {
    const scheduled = jitter(schedule[job.attemptsMade + 1] ?? schedule[schedule.length - 1] ?? 0, 0.1);
    const retryAfter = 'retryAfterMs' in result && result.retryAfterMs !== null ? Math.min(result.retryAfterMs, MAX_RETRY_AFTER_MS) : 0;
    const delayMs = Math.max(scheduled, retryAfter);
    await DeliveryModel.updateOne(guard, { ...push, $set: { next_attempt_at: new Date(now.getTime() + delayMs) } });
    log.info({ outcome: result.outcome, status: code || undefined, retry_in_ms: delayMs }, 'callback attempt failed; will retry');
    throw new RetryDeliveryError(`attempt ${attempt.n} failed (${result.outcome}${code ? ` ${code}` : ''})`, delayMs);
  }

  // Permanent refusal or retries exhausted: the delivery goes to the dead-letter store.
  const reason = retryable
    ? `retries exhausted after ${attempt.n} attempts (last: ${result.outcome}${code ? ` ${code}` : ''})`
    : `${result.outcome}${code ? ` ${code}` : ''}: not retryable`;
  await DeliveryModel.updateOne(guard, { ...push, $set: { status: 'dead', dead_at: now, dead_reason: reason, next_attempt_at: null } });
  log.warn({ reason }, 'callback dead-lettered');
  // Failing the job (not completing it) keeps it in BullMQ's failed set, visible on the dashboard.
  throw new UnrecoverableError(`dead-lettered: ${reason}`);
}
