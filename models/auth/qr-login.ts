/**
 * QR login (SPEC §2.3): a browser on an allowed origin shows a QR code; a device paired with the same
 * tenant scans it, checks the relay's signature on it (it names the tenant and the origin that asked),
 * and approves or denies; the tenant's backend polls with the session's poll token and gets the
 * approving user once. The session lives only in Redis (a short-lived login handshake, not history);
 * its states move only along QR_TRANSITIONS below (expiry is the clock, not a transition).
 * Number matching (opt-in per session): the browser shows a two-digit number, the device offers it
 * among three and must send the one the person picked; a wrong pick ends the session denied.
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import { newId } from '../../platform/ids.js';
import { redisKey } from '../../platform/keys.js';

export type QrStatus = 'pending' | 'approved' | 'denied' | 'consumed';

/** The one transition table of a QR-login session: each move by name, from which states, to which. */
export const QR_TRANSITIONS = {
  approve: { from: ['pending'], to: 'approved' },
  deny: { from: ['pending'], to: 'denied' },
  /** Number matching: the device sent another number than the browser showed. */
  mismatch: { from: ['pending'], to: 'denied' },
  /** The poll read the outcome (once). */
  consume: { from: ['approved', 'denied'], to: 'consumed' },
} as const satisfies Record<string, { from: readonly QrStatus[]; to: QrStatus }>;
export type QrTransition = keyof typeof QR_TRANSITIONS;

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

// KEYS[1] session. ARGV: approve's to, deny's to, mismatch's to (QR_TRANSITIONS; all from pending),
// decision ('approve' | 'deny'), now ms, device id, link, backend user id, user hash, number given ('' for none).
const ANSWER_LUA = `
if redis.call('exists', KEYS[1]) == 0 then return 'MISSING' end
if redis.call('hget', KEYS[1], 'status') ~= 'pending' then return 'FINAL' end
if tonumber(ARGV[5]) >= tonumber(redis.call('hget', KEYS[1], 'expires_at')) then return 'EXPIRED' end
local to = ARGV[2]
local verdict = 'OK'
local match = redis.call('hget', KEYS[1], 'match')
if ARGV[4] == 'approve' then
  to = ARGV[1]
  if match then
    if ARGV[10] == '' then return 'NEEDS_NUMBER' end
    if ARGV[10] ~= match then to = ARGV[3] verdict = 'MISMATCH' end
  end
end
redis.call('hset', KEYS[1], 'status', to, 'device_id', ARGV[6], 'link', ARGV[7], 'backend_user_id', ARGV[8], 'user', ARGV[9])
return verdict`;

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
): Promise<QrAnswerVerdict> {
  const key = redisKey.qrLogin(prefix, tenantId, sessionId);
  const t = QR_TRANSITIONS;
  return (await redis.eval(
    ANSWER_LUA,
    1,
    key,
    t.approve.to,
    t.deny.to,
    t.mismatch.to,
    decision,
    Date.now(),
    who.deviceId,
    who.relayUserLinkedId,
    who.backendUserId,
    who.userSocketHash,
    number ?? '',
  )) as QrAnswerVerdict;
}

// KEYS[1] session. ARGV[1] the status seen (one of consume's from), ARGV[2] consume's to; 1 for the one caller that moved it.
const CONSUME_LUA = `if redis.call('hget', KEYS[1], 'status') == ARGV[1] then redis.call('hset', KEYS[1], 'status', ARGV[2]) return 1 end return 0`;

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
  const status = h.status as QrStatus;
  if (status === 'consumed') return { kind: 'gone' };
  if (status === 'pending') return Number(h.expires_at) <= Date.now() ? { kind: 'gone' } : { kind: 'pending' };
  if (!(QR_TRANSITIONS.consume.from as readonly string[]).includes(status)) return { kind: 'gone' };
  if (!(await redis.eval(CONSUME_LUA, 1, key, status, QR_TRANSITIONS.consume.to))) return { kind: 'gone' };
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
