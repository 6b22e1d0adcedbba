/**
 * The life of a device approval request, shared by the API (create, answer) and the push worker
 * (deliver, expire):
 *   1. create: store the request and one push_delivery per device, enqueue one `push.send` job per
 *      device with an FCM token (devices without one are `no_token`: they poll), and, for an
 *      answerable request, a delayed `push.expire-request` at its expiry;
 *   2. the worker settles each delivery and bumps a per-request Redis counter, which is what the
 *      API watches while it waits (bounded) to answer send/auth-challenge synchronously;
 *   3. resolve: pending → approved | denied | expired by one guarded update; only the winner emits
 *      the signed callback to `{callback_url_base}/relay-callbacks/{kind}`.
 */
import { Redis } from 'ioredis';
import type { Config } from '../../platform/config.js';
import type { FcmMessage } from '../../workers/auth/fcm-client.js';
import { newId } from '../../platform/ids.js';
import type { Logger } from '../../platform/logger.js';
import { emitEvent } from '../platform/emit-event.js';
import type { Producer } from '../../queues/producer.js';
import {
  ApprovalRequestModel,
  PushDeliveryModel,
  pushDeliveryId,
  type ApprovalRequestDoc,
  type PushStatus,
  type RequestKind,
} from './approval-request.js';
import type { FanoutDevice, FanoutPairing } from './fanout-cache.js';
import { ensureAuthIndexes } from './indexes.js';
import { BatchInserter, DuplicateKeyError } from '../platform/batch-insert.js';

export type FlowDeps = { config: Config; logger: Logger; redis: Redis; producer: Producer };

export class DuplicateInstructionError extends Error {}

/**
 * "Exactly once" decisions (a proof consumed, a request resolved) are claimed in Redis with SET NX
 * before the guarded MongoDB update. The guarded update alone is atomic on MongoDB, but FerretDB v1
 * (SQLite backend) runs findAndModify as a read then a write without a transaction
 * (FerretDB/FerretDB#3040), so two concurrent guarded updates can both win there; our test showed it.
 * The Redis claim decides the race everywhere; the guarded update still refuses any later attempt
 * should the claim key be gone.
 */
export async function claimOnce(redis: Redis, prefix: string, what: string, ttlMs: number): Promise<boolean> {
  return (await redis.set(`${prefix}:claim:${what}`, '1', 'PX', Math.max(1000, Math.ceil(ttlMs)), 'NX')) === 'OK';
}

export const settledKey = (prefix: string, requestId: string): string => `${prefix}:push-settled:${requestId}`;
const SETTLED_TTL_S = 900;

/** A device's final push outcome, as the worker recorded it (mirrors its push_delivery document). */
export type SettledOutcome = { status: PushStatus; fcm_message_id?: string | null; error_code?: string | null; attempts?: number };

/**
 * Called by the worker (and by create, for devices it settles itself) once a device's delivery is
 * final: one hash field per device. The API's bounded wait reads only this hash (HLEN, then
 * HGETALL), so the synchronous answer costs no extra MongoDB read. MongoDB stays the record.
 */
export async function markSettled(
  redis: Redis,
  prefix: string,
  requestId: string,
  outcomes: Record<string, SettledOutcome>,
): Promise<void> {
  const key = settledKey(prefix, requestId);
  const flat = Object.entries(outcomes).flatMap(([deviceId, o]) => [deviceId, JSON.stringify(o)]);
  if (flat.length)
    await redis
      .multi()
      .hset(key, ...flat)
      .expire(key, SETTLED_TTL_S)
      .publish(settledChannel(prefix), requestId)
      .exec();
}

const settledChannel = (prefix: string) => `${prefix}:push-settled`;

/**
 * One pub/sub subscriber per API process wakes the requests waiting on their pushes. (Polling
 * each request's hash collapsed under load: hundreds of waiting requests polling every few ms
 * took the CPU the pushes needed.) A slow safety poll covers a notification lost to a reconnect.
 */
class SettleNotifier {
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly sub: Redis;
  constructor(url: string, prefix: string) {
    this.sub = new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: false });
    this.sub.on('error', () => undefined); // the safety poll keeps waits bounded meanwhile
    void this.sub.subscribe(settledChannel(prefix)).catch(() => undefined);
    this.sub.on('message', (_ch: string, requestId: string) => this.waiters.get(requestId)?.forEach((fn) => fn()));
  }
  on(requestId: string, fn: () => void): () => void {
    let set = this.waiters.get(requestId);
    if (!set) this.waiters.set(requestId, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0) this.waiters.delete(requestId);
    };
  }
}
const notifiers = new Map<string, SettleNotifier>();
function notifier(config: Config): SettleNotifier {
  const k = `${config.redisUrl}|${config.queuePrefix}`;
  let n = notifiers.get(k);
  if (!n) notifiers.set(k, (n = new SettleNotifier(config.redisUrl, config.queuePrefix)));
  return n;
}

export async function settledOutcomes(redis: Redis, prefix: string, requestId: string): Promise<Map<string, SettledOutcome>> {
  const all = await redis.hgetall(settledKey(prefix, requestId));
  return new Map(Object.entries(all).map(([k, v]) => [k, JSON.parse(v) as SettledOutcome]));
}

export const ticketKey = (prefix: string, requestId: string): string => `${prefix}:push-ticket:${requestId}`;

/** A push_delivery record in its final state (the worker inserts it once; its _id makes that idempotent). */
export function deliveryRecord(
  tenantId: string,
  requestId: string,
  deviceId: string,
  status: PushStatus,
  o: { fcm_message_id?: string | null; error_code?: string | null },
  attempts: number,
) {
  const now = new Date();
  return {
    _id: pushDeliveryId(requestId, deviceId),
    tenant_id: tenantId,
    request_id: requestId,
    device_id: deviceId,
    status,
    fcm_message_id: o.fcm_message_id ?? null,
    error_code: o.error_code ?? null,
    attempts,
    sent_at: status === 'sent' ? now : null,
    settled_at: now,
  };
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

/** Approval requests are group-committed (a few ms): the insert is on every challenge's path. */
const requestInserts = new BatchInserter(() => ApprovalRequestModel.collection);

export type NewRequest = {
  tenantId: string;
  kind: RequestKind;
  pairing: FanoutPairing;
  devices: FanoutDevice[];
  instructionId?: string;
  content: Record<string, unknown>;
  expectedNumber?: string | null;
  ttlSeconds: number;
};

export async function createApprovalRequest(deps: FlowDeps, r: NewRequest): Promise<{ request: ApprovalRequestDoc; pushed: number }> {
  const answerable = r.kind !== 'security-alert';
  const id = newId(answerable ? 'chg' : 'alr');
  const now = new Date();
  await ensureAuthIndexes();
  const doc = {
    _id: id,
    tenant_id: r.tenantId,
    kind: r.kind,
    pairing_id: r.pairing._id,
    user_socket_hash: r.pairing.user_socket_hash,
    relay_user_linked_id: r.pairing.relay_user_linked_id,
    instruction_id: r.instructionId ?? id,
    content: r.content,
    expected_number: r.expectedNumber ?? null,
    status: answerable ? 'pending' : 'informational',
    device_ids: r.devices.map((d) => d._id),
    expires_at: new Date(now.getTime() + r.ttlSeconds * 1000),
    resolved_at: null,
    resolution: null,
    event_id: null,
    created_at: now,
    updated_at: now,
  };
  const withToken = r.devices.filter((d) => d.fcm_token);
  const noToken = r.devices.filter((d) => !d.fcm_token);
  // 1. The request, and the final delivery record of each device without a push token, concurrently.
  //    Devices with a token get their record from the worker, once settled (insert, _id unique).
  const results = await Promise.allSettled([
    requestInserts.insert(doc),
    noToken.length
      ? PushDeliveryModel.collection.insertMany(
          noToken.map((d) => ({
            ...deliveryRecord(r.tenantId, id, d._id, 'no_token', {}, 0),
            created_at: now,
            updated_at: now,
          })) as never[],
        )
      : Promise.resolve(null),
  ]);
  const failed = results.find((x): x is PromiseRejectedResult => x.status === 'rejected');
  if (failed) {
    await PushDeliveryModel.deleteMany({ tenant_id: r.tenantId, request_id: id }).catch(() => undefined);
    await ApprovalRequestModel.deleteOne({ _id: id, tenant_id: r.tenantId }).catch(() => undefined);
    if (failed.reason instanceof DuplicateKeyError || (failed.reason as { code?: number }).code === 11000) {
      throw new DuplicateInstructionError('instruction_id already used');
    }
    throw failed.reason;
  }
  const request = doc as unknown as ApprovalRequestDoc;

  // 2. The push ticket: what the worker sends, so a push costs it no MongoDB read. Deleted when
  //    the request resolves; without it the worker falls back to reading (and re-checking) MongoDB.
  if (withToken.length > 0) {
    const tk = ticketKey(deps.config.queuePrefix, id);
    const fields = [
      'message',
      JSON.stringify(pushMessage(request)),
      'user',
      r.pairing.user_socket_hash,
      ...withToken.flatMap((d) => [`token:${d._id}`, d.fcm_token ?? '']),
    ];
    await deps.redis
      .multi()
      .hset(tk, ...fields)
      .expire(tk, r.ttlSeconds + 5)
      .exec();
  }
  if (noToken.length > 0)
    await markSettled(
      deps.redis,
      deps.config.queuePrefix,
      id,
      Object.fromEntries(noToken.map((d) => [d._id, { status: 'no_token' as const }])),
    );
  // 3. One push job per device with a token. A failed enqueue surfaces as 503; the request stays pollable.
  await Promise.all(withToken.map((d) => deps.producer.enqueue('push.send', { tenantId: r.tenantId, requestId: id, deviceId: d._id })));
  if (answerable) {
    await deps.producer.enqueue('push.expire-request', { tenantId: r.tenantId, requestId: id }, { delay: r.ttlSeconds * 1000 + 250 });
  }
  return { request, pushed: withToken.length };
}

/** Waits until `count` deliveries of the request are settled, or `maxMs` passes. True when all settled. */
export async function waitForSettled(deps: FlowDeps, requestId: string, count: number, maxMs: number): Promise<boolean> {
  if (count === 0) return true;
  const key = settledKey(deps.config.queuePrefix, requestId);
  return new Promise<boolean>((resolve) => {
    let finished = false;
    let checking = false;
    const finish = (v: boolean) => {
      if (finished) return;
      finished = true;
      off();
      clearTimeout(deadline);
      clearInterval(safety);
      resolve(v);
    };
    const check = () => {
      if (checking || finished) return;
      checking = true;
      deps.redis.hlen(key).then(
        (n) => {
          checking = false;
          if (n >= count) finish(true);
          else if (pendingRecheck) {
            pendingRecheck = false;
            check();
          }
        },
        () => (checking = false),
      );
    };
    let pendingRecheck = false;
    const notify = () => (checking ? (pendingRecheck = true) : check());
    // Subscribe first, then look: a push settling in between is seen either way.
    const off = notifier(deps.config).on(requestId, notify);
    const deadline = setTimeout(() => finish(false), maxMs);
    const safety = setInterval(check, 250);
    check();
  });
}

export type Resolution =
  | {
      status: 'approved' | 'denied';
      deviceId: string;
      decision: 'approve' | 'deny';
      answer: string | null;
      numberMatched: boolean | null;
      reason: string | null;
      signature: string;
      signedAtMs: number;
    }
  | { status: 'expired' };

/**
 * Moves a pending request to its final state, once. Returns the updated request, or null when it
 * was not pending any more (already resolved, or expired) — the caller tells which from a re-read.
 */
export async function resolveRequest(
  deps: FlowDeps & { tenants: { get(id: string): Promise<{ tenant: { _id: string; callback_url_base?: string | null } } | null> } },
  tenantId: string,
  requestId: string,
  res: Resolution,
): Promise<ApprovalRequestDoc | null> {
  const now = new Date();
  const claim = `request:${requestId}`;
  if (!(await claimOnce(deps.redis, deps.config.queuePrefix, claim, 3_600_000))) return null;
  const filter: Record<string, unknown> = { _id: requestId, tenant_id: tenantId, status: 'pending' };
  // An answer must land before the expiry; the expiry job only fires after it.
  filter.expires_at = res.status === 'expired' ? { $lte: now } : { $gt: now };
  const set: Record<string, unknown> = { status: res.status, resolved_at: now };
  if (res.status !== 'expired') {
    set.resolution = {
      device_id: res.deviceId,
      decision: res.decision,
      answer: res.answer,
      number_matched: res.numberMatched,
      reason: res.reason,
      device_signature: res.signature,
      signed_at_ms: res.signedAtMs,
    };
  }
  const updated = await ApprovalRequestModel.findOneAndUpdate(filter, { $set: set }, { new: true }).lean<ApprovalRequestDoc>();
  if (!updated) {
    // Not ours to resolve (too early for the expiry, too late for an answer): free the claim so the
    // rightful resolution (usually the expiry job) can still take it.
    await deps.redis.del(`${deps.config.queuePrefix}:claim:${claim}`);
    return null;
  }

  const entry = await deps.tenants.get(tenantId);
  const emitted = await emitEvent(
    deps,
    { tenantId, callbackUrlBase: entry?.tenant.callback_url_base, path: `/relay-callbacks/${updated.kind}` },
    `${updated.kind.replace('-', '_')}.${updated.status}`,
    resolutionEventData(updated),
  );
  await ApprovalRequestModel.updateOne({ _id: requestId, tenant_id: tenantId }, { $set: { event_id: emitted.eventId } });
  updated.event_id = emitted.eventId;
  await deps.redis.del(ticketKey(deps.config.queuePrefix, requestId)); // no more pushes for it
  return updated;
}

/** The callback body's `data`, also what fetch/delivery-status reports as the outcome. */
export function resolutionEventData(r: ApprovalRequestDoc): Record<string, unknown> {
  const c = r.content as Record<string, unknown>;
  return {
    request_id: r._id,
    kind: r.kind,
    instruction_id: r.instruction_id,
    status: r.status,
    user_socket_hash: r.user_socket_hash,
    relay_user_linked_id: r.relay_user_linked_id,
    custom_type: c.custom_type ?? null,
    expected_action: c.expected_action ?? null,
    resolved_at: r.resolved_at?.toISOString() ?? null,
    device_id: r.resolution?.device_id ?? null,
    decision: r.resolution?.decision ?? null,
    answer: r.resolution?.answer ?? null,
    number_matched: r.resolution?.number_matched ?? null,
    reason: r.resolution?.reason ?? null,
    // Lets the tenant check the device's own signature: ECDSA over
    // "BLOONIO-ANSWER-V1\n{request_id}\n{decision}\n{answer}\n{signed_at_ms}" with the device's public key.
    device_signature: r.resolution?.device_signature ?? null,
    signed_at_ms: r.resolution?.signed_at_ms ?? null,
  };
}
