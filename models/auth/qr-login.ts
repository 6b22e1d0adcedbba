/**
 * QR login (docs/contract.md §2.3): a browser on an allowed origin shows a QR code; a device paired with the same
 * tenant scans it, checks the relay's signature on it (it names the tenant and the origin that asked),
 * and approves or denies; the tenant's backend polls with the session's poll token and gets the
 * approving user once. The session lives only in Redis (a short-lived login handshake, not history);
 * its states move only along the table in qr-login-machine.ts (expiry is the clock, not a transition).
 * Number matching (opt-in per session): the browser shows a two-digit number, the device offers it
 * among three and must send the one the person picked; a wrong pick ends the session denied.
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import { newId } from '../../platform/ids.js';
import { redisKey } from '../../platform/keys.js';
import { defineScript, type ScriptArg } from '../../platform/redis-scripts.js';
import { assertQrActor, qrLoginMachine, type QrActor, type QrStatus } from './qr-login-machine.js';

export type { QrStatus, QrTransition } from './qr-login-machine.js';

const two = (n: number) => String(n).padStart(2, '0');

/** The number the browser shows and the three (shuffled) the device offers, one of them it. */
export function numberChoices(): { match: string; choices: string[] } {
  const picked = new Set<number>();
  while (picked.size < 3) picked.add(randomInt(100));
  const nums = [...picked];
  const match = nums[0] ?? 0;
  for (let i = nums.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [nums[i], nums[j]] = [nums[j] ?? 0, nums[i] ?? 0];
  }
  return { match: two(match), choices: nums.map(two) };
}

export type QrSession = {
  session_id: string;
  tenant_id: string;
  origin: string;
  status: QrStatus;
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
  o: { origin: string; browser: string; numberMatching: boolean; ttlSeconds: number },
): Promise<{ sessionId: string; pollToken: string; expiresAt: Date; match: { match: string; choices: string[] } | null }> {
  const sessionId = newId('qr');
  const pollToken = `qpt_${randomBytes(32).toString('base64url')}`;
  const expiresAt = new Date(Date.now() + o.ttlSeconds * 1000);
  const match = o.numberMatching ? numberChoices() : null;
  const key = redisKey.qrLogin(prefix, tenantId, sessionId);
  await redis
    .multi()
    .hset(key, {
      status: 'pending',
      origin: o.origin,
      browser: o.browser,
      expires_at: String(expiresAt.getTime()),
      poll: hashToken(pollToken).toString('hex'),
      ...(match ? { match: match.match } : {}),
    })
    // Kept a minute past the expiry, so a late poll is told "expired" (410), then forgotten.
    .pexpireat(key, expiresAt.getTime() + 60_000)
    .exec();
  return { sessionId, pollToken, expiresAt, match };
}

// platform/lua/qr-login-*.lua (their headers say their keys, arguments and replies).
const ANSWER = defineScript<[session: string], ScriptArg[], QrAnswerVerdict>('qr-login-answer');
const CONSUME = defineScript<[session: string], [seen: string, to: string], number>('qr-login-consume');

export type QrAnswerVerdict = 'OK' | 'MISSING' | 'FINAL' | 'EXPIRED' | 'NEEDS_NUMBER' | 'MISMATCH';

/**
 * A device's answer: `approve` (needs the matching number when the session uses number matching:
 * NEEDS_NUMBER without one, and a wrong one moves it by `mismatch`, ending it denied) or `deny`.
 */
export async function answerQrSession(
  redis: Redis,
  prefix: string,
  tenantId: string,
  sessionId: string,
  decision: 'approve' | 'deny',
  who: { deviceId: string; relayUserLinkedId: string; backendUserId: string; userSocketHash: string },
  number: string | null,
  by: QrActor = 'device',
): Promise<QrAnswerVerdict> {
  const key = redisKey.qrLogin(prefix, tenantId, sessionId);
  const m = qrLoginMachine;
  // Which of approve, deny or mismatch it makes is decided by the script (the number is checked there).
  for (const name of ['approve', 'deny', 'mismatch'] as const) assertQrActor(name, by);
  const from = [...new Set([...m.get('approve').from, ...m.get('deny').from, ...m.get('mismatch').from])].join(' ');
  return ANSWER.run(
    redis,
    [key],
    [
      m.get('approve').to,
      m.get('deny').to,
      m.get('mismatch').to,
      decision,
      Date.now(),
      who.deviceId,
      who.relayUserLinkedId,
      who.backendUserId,
      who.userSocketHash,
      number ?? '',
      from,
    ],
  );
}

export type QrPoll = { kind: 'gone' } | { kind: 'pending' } | { kind: 'denied' } | { kind: 'approved'; session: QrSession };

/**
 * The poll: 410 (gone) for an unknown, expired or consumed session and for a missing or wrong poll
 * token (one answer for all, so a guess learns nothing); an outcome is read once.
 */
export async function pollQrSession(
  redis: Redis,
  prefix: string,
  tenantId: string,
  sessionId: string,
  pollToken: string,
  by: QrActor = 'backend',
): Promise<QrPoll> {
  assertQrActor('consume', by);
  const key = redisKey.qrLogin(prefix, tenantId, sessionId);
  const h = await redis.hgetall(key);
  const expected = Buffer.from(h.poll ?? '', 'hex');
  const given = hashToken(pollToken);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { kind: 'gone' };
  const status = h.status as QrStatus;
  if (status === 'consumed') return { kind: 'gone' };
  if (status === 'pending') return Number(h.expires_at) <= Date.now() ? { kind: 'gone' } : { kind: 'pending' };
  const consume = qrLoginMachine.get('consume');
  if (!(consume.from as readonly string[]).includes(status)) return { kind: 'gone' };
  if (!(await CONSUME.run(redis, [key], [status, consume.to]))) return { kind: 'gone' };
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
