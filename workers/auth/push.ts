/**
 * Where a push gets sent. Processors of the `push` queue (approval requests' jobs):
 *
 * `push.send` — one approval request (auth challenge or security alert) to one device, through FCM
 * HTTP v1 (platform/fcm.ts, firebase-admin). The push_delivery record is written once, when the
 * push is settled (its _id, request:device, makes a second settle a no-op):
 *   1. what to send: the push manifest the API wrote in Redis (message + token; deleted when the
 *      request resolves), so the hot path reads no MongoDB; without a manifest, the request and device
 *      are read (models/auth/approval-flow.ts) and checked (still pending, device active, token present);
 *   2. otherwise settle as `skipped` / `no_token` without sending;
 *   3. respect the project-wide FCM send rate (a per-second counter in Redis shared by all workers):
 *      over it, the job is moved to the next second without spending an attempt;
 *   4. send, and settle by FCM's documented outcome:
 *        ok            → `sent` with FCM's message id;
 *        invalid_token → UNREGISTERED / invalid INVALID_ARGUMENT: the device's token is pruned (only if
 *                        it is still the token we used), the delivery is `invalid_token`;
 *        transient     → QUOTA_EXCEEDED / UNAVAILABLE / INTERNAL: retried with backoff (Retry-After when
 *                        FCM sent one, at least 60 s after a quota error, as FCM asks), `failed` after
 *                        the last attempt;
 *        permanent     → `failed` at once (SENDER_ID_MISMATCH, auth errors, bad payload).
 *   5. record the outcome in MongoDB and in the request's Redis outcome hash, which the API's bounded
 *      wait in send/auth-challenge watches.
 *
 * `approval.persist`, `approval.finalize`, `push.expire-request` — the approval request's history in
 * MongoDB, its end, and its callbacks (models/auth/approval-flow.ts says how each is idempotent).
 *
 * With no FCM credentials configured, deliveries are settled as `skipped` (PUSH_NOT_CONFIGURED) at
 * once and devices pick requests up by polling GET /device/requests.
 */
import type https from 'node:https';
import { DelayedError, type Job } from 'bullmq';
import {
  expireApprovalRequest,
  finalizeApprovalRequest,
  loadApprovalRequest,
  persistApprovalRequest,
} from '../../models/auth/approval-flow.js';
import { PushDeliveryModel, type PushStatus } from '../../models/auth/approval-request.js';
import { DeviceModel, type DeviceDoc } from '../../models/auth/device.js';
import { forgetDeviceSession } from '../../models/auth/device-session-cache.js';
import { invalidateFanout } from '../../models/auth/fanout-cache.js';
import { deliveryRecord, markSettled, pushMessage, readManifest } from '../../models/auth/push-delivery.js';
import { BatchInserter } from '../../models/platform/batch-insert.js';
import type { TenantFlowDeps } from '../../models/platform/deps.js';
import { createFcmSender, type FcmMessage, type FcmSender } from '../../platform/fcm.js';
import { redisKey } from '../../platform/keys.js';
import { hitFixedWindow } from '../../platform/rate-limit.js';
import type { JobOutcome, JobPayload } from '../../queues/catalogue.js';

export type PushDeps = TenantFlowDeps & {
  /** Test-only injection point: routes firebase-admin's connections (to the fake FCM). Production leaves it unset. */
  fcmHttpAgent?: https.Agent;
  /** An already-built sender (benchmarks); otherwise one is built from FCM_SERVICE_ACCOUNT_JSON. */
  fcmSender?: FcmSender | null;
};

/** Carries the delay the backoff strategy (workers/backoff.ts) should wait before the next attempt. */
export class PushRetryError extends Error {
  constructor(
    message: string,
    readonly delayMs: number | undefined,
  ) {
    super(message);
  }
}

const QUOTA_MIN_BACKOFF_MS = 60_000;

/** A settled push's status, which is also the push.send job's outcome (never `queued`). */
type SettledPush = JobOutcome<'push.send'> & PushStatus;

export function buildSender(deps: PushDeps): FcmSender | null {
  if (deps.fcmSender !== undefined) return deps.fcmSender;
  if (!deps.config.fcmServiceAccountJson) {
    deps.logger.warn('FCM_SERVICE_ACCOUNT_JSON is not set: no push is sent; devices get their requests by polling GET /device/requests');
    return null;
  }
  return createFcmSender({
    serviceAccountJson: deps.config.fcmServiceAccountJson,
    ...(deps.fcmHttpAgent ? { httpAgent: deps.fcmHttpAgent } : {}),
  });
}

export function createPushProcessors(deps: PushDeps) {
  const sender = buildSender(deps);
  // push_delivery records are group-committed (models/platform/batch-insert.ts); a duplicate means already recorded.
  const records = new BatchInserter(() => PushDeliveryModel.collection);
  const record = (doc: Record<string, unknown>) => records.insertOnce(doc);
  const prefix = deps.config.queuePrefix;

  /**
   * Records the final outcome: first in the request's Redis outcome hash (what the API's bounded
   * wait reads, so it is not held up), then in MongoDB, group-committed; the job ends
   * once the record is written. The record's _id (request:device) makes a second settle a no-op.
   */
  async function settle(
    p: JobPayload<'push.send'>,
    status: SettledPush,
    o: { fcm_message_id?: string; error_code?: string | null } = {},
    attempts = 0,
  ): Promise<SettledPush> {
    await markSettled(deps.redis, prefix, p.tenantId, p.requestId, {
      [p.deviceId]: {
        status,
        fcm_message_id: o.fcm_message_id ?? null,
        error_code: o.error_code ?? null,
        attempts,
        sent_at: status === 'sent' ? new Date().toISOString() : null,
      },
    });
    await record(deliveryRecord(p.tenantId, p.requestId, p.deviceId, status, o, attempts));
    return status;
  }

  /** What to send, from the push manifest (fast path) or, when it is gone, from MongoDB with every check. */
  async function target(
    p: JobPayload<'push.send'>,
  ): Promise<{ token: string; message: FcmMessage; userHash: string } | { skip: SettledPush; code: string | null }> {
    const manifest = await readManifest(deps.redis, prefix, p.tenantId, p.requestId, p.deviceId);
    if (manifest) return { token: manifest.token, message: manifest.message, userHash: manifest.userSocketHash };
    const [request, device] = await Promise.all([
      loadApprovalRequest(deps, p.tenantId, p.requestId),
      DeviceModel.findOne({ _id: p.deviceId, tenant_id: p.tenantId }).lean<DeviceDoc>(),
    ]);
    if (!request || (request.status !== 'pending' && request.status !== 'informational') || request.expires_at.getTime() <= Date.now()) {
      return { skip: 'skipped', code: 'REQUEST_CLOSED' };
    }
    if (!device || device.status !== 'active') return { skip: 'skipped', code: 'DEVICE_REVOKED' };
    if (!device.fcm_token) return { skip: 'no_token', code: null };
    return { token: device.fcm_token, message: pushMessage(request), userHash: device.user_socket_hash };
  }

  async function underSendRate(job: Job, token: string | undefined): Promise<void> {
    const now = Date.now();
    const second = Math.floor(now / 1000);
    const hit = await hitFixedWindow(
      deps.redis,
      { key: redisKey.fcmSendRate(prefix), limit: deps.config.fcmMaxSendsPerSecond, windowMs: 1000 },
      now,
    );
    if (hit.ok) return;
    // Over the project's send rate: wait for the next second without spending an attempt.
    await job.moveToDelayed((second + 1) * 1000 + Math.floor(Math.random() * 200), token);
    throw new DelayedError();
  }

  const send = async (job: Job, token: string | undefined, p: JobPayload<'push.send'>): Promise<SettledPush> => {
    // 1–2. What to send, or why not.
    const t = await target(p);
    if ('skip' in t) return settle(p, t.skip, { error_code: t.code });
    if (!sender) return settle(p, 'skipped', { error_code: 'PUSH_NOT_CONFIGURED' });

    // 3–4.
    await underSendRate(job, token);
    const attempts = job.attemptsMade + 1;
    const result = await sender.send(t.token, t.message);
    if (result.ok) return settle(p, 'sent', { fcm_message_id: result.messageId, error_code: null }, attempts);
    if (result.kind === 'invalid_token') {
      // Only the token FCM refused: the device may have reported a new one meanwhile.
      // (No projection: FerretDB v1 does not support one on findAndModify.)
      const pruned = await DeviceModel.findOneAndUpdate(
        { _id: p.deviceId, tenant_id: p.tenantId, fcm_token: t.token },
        { $set: { fcm_token: null, fcm_token_pruned_reason: result.code, fcm_token_pruned_at: new Date() } },
      ).lean<DeviceDoc>();
      if (pruned) await forgetDeviceSession(deps.redis, prefix, pruned.session_token_hash);
      await invalidateFanout(deps.redis, prefix, p.tenantId, t.userHash);
      deps.logger.info({ device_id: p.deviceId, code: result.code }, 'FCM token pruned');
      return settle(p, 'invalid_token', { error_code: result.code }, attempts);
    }
    const lastAttempt = attempts >= (job.opts.attempts ?? 1);
    if (result.kind === 'transient' && !lastAttempt) {
      const delay = result.code === 'QUOTA_EXCEEDED' ? Math.max(QUOTA_MIN_BACKOFF_MS, result.retryAfterMs ?? 0) : result.retryAfterMs;
      throw new PushRetryError(`FCM ${result.code}`, delay);
    }
    deps.logger.warn({ device_id: p.deviceId, code: result.code, kind: result.kind }, 'FCM push failed');
    return settle(p, 'failed', { error_code: result.code }, attempts);
  };

  return {
    send,
    expire: (_job: Job, _token: string | undefined, p: JobPayload<'push.expire-request'>) =>
      expireApprovalRequest(deps, p.tenantId, p.requestId),
    persist: (_job: Job, _token: string | undefined, p: JobPayload<'approval.persist'>) =>
      persistApprovalRequest(deps, p.tenantId, p.requestId),
    finalize: (_job: Job, _token: string | undefined, p: JobPayload<'approval.finalize'>) =>
      finalizeApprovalRequest(deps, p.tenantId, p.requestId),
    close: async () => {
      await records.flush();
      await sender?.close();
    },
  };
}
