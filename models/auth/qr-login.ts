/**
 * QR login (SPEC §2.3): a browser on an allowed origin shows a QR code; a device paired with the same
 * tenant scans it, checks the relay's signature on it (it names the tenant and the origin that asked),
 * and approves or denies; the tenant's backend polls with the session's poll token and gets the
 * approving user once. The session lives only in Redis (a short-lived login handshake, not history):
 *   pending → approved | denied (by one device, once) → consumed (read once by the poll) ; expired.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import { newId } from '../../platform/ids.js';
import { redisKey } from '../../platform/keys.js';

export type QrSession = {
  session_id: string;
  tenant_id: string;
  origin: string;
  status: 'pending' | 'approved' | 'denied' | 'consumed';
  expires_at: number;
  device_id: string | null;
  relay_user_linked_id: string | null;
  backend_user_id: string | null;
  user_socket_hash: string | null;
};

const hashToken = (t: string) => createHash('sha256').update(t).digest();

export async function createQrSession(
  redis: Redis,
  prefix: string,
  tenantId: string,
  origin: string,
  ttlSeconds: number,
): Promise<{ sessionId: string; pollToken: string; expiresAt: Date }> {
  const sessionId = newId('qr');
  const pollToken = `qpt_${randomBytes(32).toString('base64url')}`;
  const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
  const key = redisKey.qrLogin(prefix, tenantId, sessionId);
  await redis
    .multi()
    .hset(
      key,
      'status',
      'pending',
      'origin',
      origin,
      'expires_at',
      String(expiresAt.getTime()),
      'poll',
      hashToken(pollToken).toString('hex'),
    )
    // Kept a minute past the expiry, so a late poll is told "expired" (410), then forgotten.
    .pexpireat(key, expiresAt.getTime() + 60_000)
    .exec();
  return { sessionId, pollToken, expiresAt };
}

// KEYS[1] session. ARGV: decision, now ms, device id, link, backend user id, user hash. Pending and unexpired → decided.
const ANSWER_LUA = `
if redis.call('exists', KEYS[1]) == 0 then return 'MISSING' end
if redis.call('hget', KEYS[1], 'status') ~= 'pending' then return 'FINAL' end
if tonumber(ARGV[2]) >= tonumber(redis.call('hget', KEYS[1], 'expires_at')) then return 'EXPIRED' end
redis.call('hset', KEYS[1], 'status', ARGV[1], 'device_id', ARGV[3], 'link', ARGV[4], 'backend_user_id', ARGV[5], 'user', ARGV[6])
return 'OK'`;

export type QrAnswerVerdict = 'OK' | 'MISSING' | 'FINAL' | 'EXPIRED';

export async function answerQrSession(
  redis: Redis,
  prefix: string,
  tenantId: string,
  sessionId: string,
  decision: 'approved' | 'denied',
  who: { deviceId: string; relayUserLinkedId: string; backendUserId: string; userSocketHash: string },
): Promise<QrAnswerVerdict> {
  const key = redisKey.qrLogin(prefix, tenantId, sessionId);
  return (await redis.eval(
    ANSWER_LUA,
    1,
    key,
    decision,
    Date.now(),
    who.deviceId,
    who.relayUserLinkedId,
    who.backendUserId,
    who.userSocketHash,
  )) as QrAnswerVerdict;
}

// KEYS[1] session. ARGV[1] the status seen. Moves approved/denied → consumed once; 1 for the one caller that did.
const CONSUME_LUA = `if redis.call('hget', KEYS[1], 'status') == ARGV[1] then redis.call('hset', KEYS[1], 'status', 'consumed') return 1 end return 0`;

export type QrPoll = { kind: 'gone' } | { kind: 'pending' } | { kind: 'denied' } | { kind: 'approved'; session: QrSession };

/**
 * The poll: 410 (gone) for an unknown, expired or consumed session and for a missing or wrong poll
 * token (one answer for all, so a guess learns nothing); an outcome is read once.
 */
export async function pollQrSession(redis: Redis, prefix: string, tenantId: string, sessionId: string, pollToken: string): Promise<QrPoll> {
  const key = redisKey.qrLogin(prefix, tenantId, sessionId);
  const h = await redis.hgetall(key);
  const expected = Buffer.from(h.poll ?? '', 'hex');
  const given = hashToken(pollToken);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { kind: 'gone' };
  const status = h.status as QrSession['status'];
  if (status === 'consumed') return { kind: 'gone' };
  if (status === 'pending') return Number(h.expires_at) <= Date.now() ? { kind: 'gone' } : { kind: 'pending' };
  if (!(await redis.eval(CONSUME_LUA, 1, key, status))) return { kind: 'gone' };
  if (status === 'denied') return { kind: 'denied' };
  return {
    kind: 'approved',
    session: {
      session_id: sessionId,
      tenant_id: tenantId,
      origin: h.origin ?? '',
      status,
      expires_at: Number(h.expires_at),
      device_id: h.device_id ?? null,
      relay_user_linked_id: h.link ?? null,
      backend_user_id: h.backend_user_id ?? null,
      user_socket_hash: h.user ?? null,
    },
  };
}
