/**
 * Where a callback is signed and sent (docs/contract.md §1.4): one attempt of one delivery. The job carries what
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
 *      decide (delivery-decision.ts): succeeded, retry later (BullMQ's backoff, with the schedule and
 *      Retry-After), or dead — each a transition of models/platform/delivery-machine.ts.
 * At-least-once: a crash after the POST but before the record means one more POST of the same event
 * id, which receivers de-duplicate.
 */
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { recordAttempt } from '../../models/platform/delivery-records.js';
import type { AttemptRecord } from '../../models/platform/delivery.js';
import { catalogueUrl } from '../../models/platform/emit-event.js';
import type { TenantStore } from '../../models/platform/tenant-store.js';
import type { Config } from '../../platform/config.js';
import type { Logger } from '../../platform/logger.js';
import type { AttemptResult, OutboundHttp } from '../../platform/outbound-http.js';
import { signedHeaders } from '../../platform/signing.js';
import type { JobOutcome, JobPayload } from '../../queues/catalogue.js';
import { decideDelivery } from './delivery-decision.js';
import { createTenantSlots } from './tenant-slots.js';

export type DeliveryDeps = { config: Config; logger: Logger; redis: Redis; tenants: TenantStore; http: OutboundHttp };

/** A retryable failure: BullMQ's backoff strategy (workers/backoff.ts) waits `delayMs` before the next attempt. */
export class RetryDeliveryError extends Error {
  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message);
  }
}

export function createDeliveryProcessor(deps: DeliveryDeps) {
  const { config } = deps;
  const slots = createTenantSlots(deps);

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

    // 1. A slot for this tenant (workers/platform/tenant-slots.ts), or step aside without spending an attempt.
    const slot = await slots.take(tenantId, String(job.id));
    if (!slot.granted) {
      await job.moveToDelayed(Date.now() + slot.stepAsideMs, token);
      throw new DelayedError();
    }
    const { member, gen } = slot;

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
      // 3a. The slot is released whatever happened (the lease expiry covers a crash here).
      await slots.release(tenantId, member, result);
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
  const log = deps.logger.child({ delivery_id: d.deliveryId, event_id: d.eventId, tenant_id: d.tenantId, attempt: attempt.n });
  const code = 'statusCode' in result ? result.statusCode : 0;

  // The decision is pure (workers/platform/delivery-decision.ts); its transition is what the record moves by.
  const decision = decideDelivery(result, a, deps.config.callbackRetryScheduleMs);
  switch (decision.transition) {
    case 'deliver':
    case 'deliverFromDead':
      await recordAttempt(d, { transition: decision.transition, attempt, nextAttemptAt: null, deadReason: null }, { first });
      log.debug({ status: code, ms: result.durationMs }, 'callback delivered');
      return 'succeeded';
    case 'retry':
      await recordAttempt(
        d,
        { transition: 'retry', attempt, nextAttemptAt: new Date(now.getTime() + decision.delayMs), deadReason: null },
        { first },
      );
      log.info(
        { outcome: result.outcome, status: code || undefined, retry_in_ms: decision.delayMs },
        'callback attempt failed; will retry',
      );
      throw new RetryDeliveryError(`attempt ${attempt.n} failed (${result.outcome}${code ? ` ${code}` : ''})`, decision.delayMs);
    case 'deadLetter':
    case 'failFromDead':
      await recordAttempt(d, { transition: decision.transition, attempt, nextAttemptAt: null, deadReason: decision.reason }, { first });
      log.warn({ reason: decision.reason }, 'callback dead-lettered');
      // Failing the job (not completing it) keeps it in BullMQ's failed set, visible on the dashboard.
      throw new UnrecoverableError(`dead-lettered: ${decision.reason}`);
  }
}
