/**
 * The push side of an approval request: one FCM push per device that has a token.
 *   - the push manifest (Redis): what the push worker sends, written with the request, so a push costs
 *     the worker no MongoDB read; deleted when the request ends (no more pushes for it);
 *   - the settled outcomes (Redis): one field per device once its push is final, announced on a
 *     channel, which is what send/auth-challenge's bounded wait watches to answer synchronously;
 *   - the push_delivery record (MongoDB): the history, written once per device by the worker.
 */
import type { Redis } from 'ioredis';
import type { Config } from '../../platform/config.js';
import type { FcmMessage } from '../../platform/fcm.js';
import { redisKey } from '../../platform/keys.js';
import { subscriberRedis } from '../../platform/redis.js';
import { pushDeliveryId, type PushStatus, type RequestKind } from './approval-request.js';

const SETTLED_TTL_S = 900;

/** A device's final push outcome, as the worker recorded it (mirrors its push_delivery document). */
export type SettledOutcome = {
  status: PushStatus;
  fcm_message_id?: string | null;
  error_code?: string | null;
  attempts?: number;
  sent_at?: string | null;
};

/** What FCM carries: ids and a short notice only; the device fetches the details over its signed channel. */
export function pushMessage(r: {
  _id: string;
  kind: RequestKind;
  instruction_id: string;
  content: Record<string, unknown>;
  expires_at: Date;
}): FcmMessage {
  const c = r.content;
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

/** The manifest's fields: the message, the user (to invalidate its fan-out on a pruned token), each device's token. */
export function manifestFields(message: FcmMessage, userSocketHash: string, tokens: { deviceId: string; token: string }[]): string[] {
  return ['message', JSON.stringify(message), 'user', userSocketHash, ...tokens.flatMap((t) => [`token:${t.deviceId}`, t.token])];
}

export async function readManifest(
  redis: Redis,
  prefix: string,
  tenantId: string,
  requestId: string,
  deviceId: string,
): Promise<{ message: FcmMessage; token: string; userSocketHash: string } | null> {
  const [message, token, user] = await redis.hmget(
    redisKey.pushManifest(prefix, tenantId, requestId),
    'message',
    `token:${deviceId}`,
    'user',
  );
  if (!message || !token || !user) return null;
  const m = JSON.parse(message) as FcmMessage;
  // The lifetime left, as of now (a retry comes later than the manifest was written).
  m.ttlSeconds = Math.min(m.ttlSeconds ?? 0, Math.max(0, Math.floor((Date.parse(m.data.expires_at ?? '') - Date.now()) / 1000)));
  return { message: m, token, userSocketHash: user };
}

/**
 * Records devices' final outcomes (the worker, and create for devices it settles itself): one hash
 * field per device, and a notice on the channel. The API's bounded wait reads only this hash, so the
 * synchronous answer costs no MongoDB read. MongoDB stays the record.
 */
export async function markSettled(
  redis: Redis,
  prefix: string,
  tenantId: string,
  requestId: string,
  outcomes: Record<string, SettledOutcome>,
): Promise<void> {
  const key = redisKey.pushSettled(prefix, tenantId, requestId);
  const flat = Object.entries(outcomes).flatMap(([deviceId, o]) => [deviceId, JSON.stringify(o)]);
  if (!flat.length) return;
  await redis
    .multi()
    .hset(key, ...flat)
    .expire(key, SETTLED_TTL_S)
    .publish(redisKey.pushSettledChannel(prefix), requestId)
    .exec();
}

export async function settledOutcomes(
  redis: Redis,
  prefix: string,
  tenantId: string,
  requestId: string,
): Promise<Map<string, SettledOutcome>> {
  const all = await redis.hgetall(redisKey.pushSettled(prefix, tenantId, requestId));
  return new Map(Object.entries(all).map(([k, v]) => [k, JSON.parse(v) as SettledOutcome]));
}

/**
 * One pub/sub subscriber per API process wakes the requests waiting on their pushes. (Polling
 * each request's hash collapsed under load: hundreds of waiting requests polling every few ms
 * took the CPU the pushes needed.) A slow safety poll covers a notification lost to a reconnect.
 */
class SettleNotifier {
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly sub: Redis;
  constructor(url: string, prefix: string) {
    this.sub = subscriberRedis(url);
    this.sub.on('error', () => undefined); // the safety poll keeps waits bounded meanwhile
    void this.sub.subscribe(redisKey.pushSettledChannel(prefix)).catch(() => undefined);
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
  close(): void {
    this.sub.disconnect();
  }
}
const notifiers = new Map<string, SettleNotifier>();
function notifier(config: Config): SettleNotifier {
  const k = `${config.redisUrl}|${config.queuePrefix}`;
  let n = notifiers.get(k);
  if (!n) notifiers.set(k, (n = new SettleNotifier(config.redisUrl, config.queuePrefix)));
  return n;
}

/** Stops this process's settle notifiers (shutdown). */
export function closeSettleNotifiers(): void {
  for (const n of notifiers.values()) n.close();
  notifiers.clear();
}

/** Waits until `count` deliveries of the request are settled, or `maxMs` passes. True when all settled. */
export async function waitForSettled(
  deps: { config: Config; redis: Redis },
  tenantId: string,
  requestId: string,
  count: number,
  maxMs: number,
): Promise<boolean> {
  if (count === 0) return true;
  const key = redisKey.pushSettled(deps.config.queuePrefix, tenantId, requestId);
  return new Promise<boolean>((resolve) => {
    let finished = false;
    let checking = false;
    let pendingRecheck = false;
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
    const notify = () => (checking ? (pendingRecheck = true) : check());
    // Subscribe first, then look: a push settling in between is seen either way.
    const off = notifier(deps.config).on(requestId, notify);
    const deadline = setTimeout(() => finish(false), maxMs);
    const safety = setInterval(check, 250);
    check();
  });
}

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
    created_at: now,
    updated_at: now,
  };
}
