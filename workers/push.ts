/**
 * Where a push gets sent. Processors of the `push` queue:
 *
 * `push.send` — one approval request (auth challenge or security alert) to one device, through FCM
 * HTTP v1 (platform/fcm.ts, firebase-admin). The push_delivery record is the state:
 *   1. load the delivery; return early unless it is still `queued` (duplicate job, retry after success);
 *   2. skip it when the request is no longer pending, or the device was revoked or lost its token;
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
 *   5. bump the request's settled counter (the API's bounded wait in send/auth-challenge watches it).
 *
 * `push.expire-request` — the delayed job at a request's expiry: pending → expired (guarded), and the
 * tenant gets the `…expired` callback. An answer that won the race leaves nothing to do.
 *
 * With no FCM credentials configured, deliveries are settled as `skipped` (PUSH_NOT_CONFIGURED) at
 * once and devices pick requests up by polling GET /device/requests.
 */
import type https from 'node:https';
import { DelayedError, type Job } from 'bullmq';
import { markSettled, resolveRequest, type FlowDeps } from '../models/approval-flow.js';
import { ApprovalRequestModel, PushDeliveryModel, pushDeliveryId, type ApprovalRequestDoc, type PushDeliveryDoc, type PushStatus } from '../models/challenge.js';
import { DeviceModel, type DeviceDoc } from '../models/device.js';
import type { TenantStore } from '../models/tenant-store.js';
import { createFcmSender, type FcmMessage, type FcmSender } from '../platform/fcm.js';
import type { JobPayload } from '../queues/catalogue.js';

export type PushDeps = FlowDeps & {
  tenants: TenantStore;
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

export function buildSender(deps: PushDeps): FcmSender | null {
  if (deps.fcmSender !== undefined) return deps.fcmSender;
  if (!deps.config.fcmServiceAccountJson) {
    deps.logger.warn('FCM_SERVICE_ACCOUNT_JSON is not set: no push is sent; devices get their requests by polling GET /device/requests');
    return null;
  }
  return createFcmSender({ serviceAccountJson: deps.config.fcmServiceAccountJson, ...(deps.fcmHttpAgent ? { httpAgent: deps.fcmHttpAgent } : {}) });
}

/** What FCM carries: ids and a short notice only; the device fetches the details over its signed channel. */
export function pushMessage(r: ApprovalRequestDoc): FcmMessage {
  const c = r.content as Record<string, unknown>;
  const display = (c.display ?? {}) as { title?: string; subtitle?: string };
  const title = r.kind === 'security-alert' ? String(c.title ?? 'Security alert') : (display.title ?? 'Approve this request?');
  const body = r.kind === 'security-alert' ? String(c.body ?? '') : String(display.subtitle ?? c.description ?? '');
  const ttlSeconds = Math.max(0, Math.floor((r.expires_at.getTime() - Date.now()) / 1000));
  return {
    data: {
      type: 'bloonio.approval_request',
      kind: r.kind,
      request_id: r._id,
      instruction_id: r.instruction_id,
      expires_at: r.expires_at.toISOString(),
      ...(typeof c.custom_type === 'string' ? { custom_type: c.custom_type } : {}),
    },
    notification: { title: title.slice(0, 120), body: body.slice(0, 240) },
    android: { priority: 'high' },
    apns: { headers: { 'apns-priority': '10' } },
    ttlSeconds: r.kind === 'security-alert' ? Math.min(ttlSeconds, 86400) : ttlSeconds,
    collapseKey: r._id,
  };
}

export function createPushProcessors(deps: PushDeps) {
  const sender = buildSender(deps);
  const prefix = deps.config.queuePrefix;

  async function settle(d: PushDeliveryDoc, status: PushStatus, set: Record<string, unknown> = {}): Promise<PushStatus> {
    const now = new Date();
    const moved = await PushDeliveryModel.updateOne(
      { _id: d._id, tenant_id: d.tenant_id, status: 'queued' },
      { $set: { status, settled_at: now, ...(status === 'sent' ? { sent_at: now } : {}), ...set } },
    );
    if (moved.modifiedCount === 1) await markSettled(deps.redis, prefix, d.request_id);
    return status;
  }

  async function underSendRate(job: Job, token: string | undefined): Promise<void> {
    const second = Math.floor(Date.now() / 1000);
    const key = `${prefix}:fcm-rate:${second}`;
    const [[, count]] = (await deps.redis.multi().incr(key).expire(key, 3).exec()) as [[unknown, number]];
    if (count <= deps.config.fcmMaxSendsPerSecond) return;
    // Over the project's send rate: wait for the next second without spending an attempt.
    await job.moveToDelayed((second + 1) * 1000 + Math.floor(Math.random() * 200), token);
    throw new DelayedError();
  }

  const send = async (job: Job, token: string | undefined, p: JobPayload<'push.send'>): Promise<string> => {
    // 1. State first.
    const delivery = await PushDeliveryModel.findOne({ _id: pushDeliveryId(p.requestId, p.deviceId), tenant_id: p.tenantId }).lean<PushDeliveryDoc>();
    if (!delivery || delivery.status !== 'queued') return `already-${delivery?.status ?? 'missing'}`;
    // 2. Still worth sending?
    const request = await ApprovalRequestModel.findOne({ _id: p.requestId, tenant_id: p.tenantId }).lean<ApprovalRequestDoc>();
    if (!request || (request.status !== 'pending' && request.status !== 'informational') || request.expires_at.getTime() <= Date.now()) {
      return settle(delivery, 'skipped', { error_code: 'REQUEST_CLOSED' });
    }
    const device = await DeviceModel.findOne({ _id: p.deviceId, tenant_id: p.tenantId }).lean<DeviceDoc>();
    if (!device || device.status !== 'active') return settle(delivery, 'skipped', { error_code: 'DEVICE_REVOKED' });
    if (!device.fcm_token) return settle(delivery, 'no_token');
    if (!sender) return settle(delivery, 'skipped', { error_code: 'PUSH_NOT_CONFIGURED' });

    // 3–4.
    await underSendRate(job, token);
    const result = await sender.send(device.fcm_token, pushMessage(request));
    await PushDeliveryModel.updateOne({ _id: delivery._id, tenant_id: p.tenantId }, { $inc: { attempts: 1 } });
    if (result.ok) return settle(delivery, 'sent', { fcm_message_id: result.messageId, error_code: null });
    if (result.kind === 'invalid_token') {
      // Only the token FCM refused: the device may have reported a new one meanwhile.
      await DeviceModel.updateOne(
        { _id: device._id, tenant_id: p.tenantId, fcm_token: device.fcm_token },
        { $set: { fcm_token: null, fcm_token_pruned_reason: result.code, fcm_token_pruned_at: new Date() } },
      );
      deps.logger.info({ device_id: device._id, code: result.code }, 'FCM token pruned');
      return settle(delivery, 'invalid_token', { error_code: result.code });
    }
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (result.kind === 'transient' && !lastAttempt) {
      const delay = result.code === 'QUOTA_EXCEEDED' ? Math.max(QUOTA_MIN_BACKOFF_MS, result.retryAfterMs ?? 0) : result.retryAfterMs;
      await PushDeliveryModel.updateOne({ _id: delivery._id, tenant_id: p.tenantId }, { $set: { error_code: result.code } });
      throw new PushRetryError(`FCM ${result.code}`, delay);
    }
    deps.logger.warn({ device_id: device._id, code: result.code, kind: result.kind }, 'FCM push failed');
    return settle(delivery, 'failed', { error_code: result.code });
  };

  const expire = async (_job: Job, _token: string | undefined, p: JobPayload<'push.expire-request'>): Promise<string> => {
    const done = await resolveRequest(deps, p.tenantId, p.requestId, { status: 'expired' });
    if (done) return 'expired';
    const r = await ApprovalRequestModel.findOne({ _id: p.requestId, tenant_id: p.tenantId }).lean<ApprovalRequestDoc>();
    if (r?.status === 'pending') throw new Error('request not yet expired'); // early timer: retry shortly
    return `already-${r?.status ?? 'missing'}`;
  };

  return { send, expire, close: async () => sender?.close() };
}
