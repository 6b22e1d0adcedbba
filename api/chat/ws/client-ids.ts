/**
 * A visitor message stored once per `client_id`, whatever the network does. A widget that sent a
 * message and lost its socket before the `ack` cannot know whether it was stored, so it sends it again
 * after reconnecting, with the same client_id. The first arrival claims the id in Redis (SET NX, a
 * short "pending" mark while it is stored), then records its ack for 24 h; a later arrival gets that
 * ack again (`duplicate: true`) instead of a second copy. One round trip before the store and one
 * after, for frames that carry a client_id only. Keys carry the tenant in their hash tag and the
 * session, so one visitor can never read or block another's ids.
 *
 * The contract with `store`: it throws only when the message was not stored (nor queued to be). Once
 * it is durably stored or queued, whatever follows (the fan-out, a cache) must not throw, or the
 * claim is given back and the widget's resend is stored a second time.
 */
import type { RedisKeyDeps } from '../../../models/platform/deps.js';
import { redisKey } from '../../../platform/keys.js';
import { ApiError } from '../../errors.js';

export type StoredAck = { message_id: string; seq: number; conversation_id: string };

const DONE_TTL_S = 86_400;
/** Long enough to store one message; short enough that a process dying mid-store does not block the id for long. */
const PENDING_TTL_S = 30;
const WAIT_STEP_MS = 100;
const WAIT_STEPS = 30;
/** How long a claim's last write is retried through a Redis outage (well inside PENDING_TTL_S). */
const SETTLE_MS = 15_000;

export async function oncePerClientId(
  deps: RedisKeyDeps,
  tenantId: string,
  sessionId: string,
  clientId: string | undefined,
  store: () => Promise<StoredAck | null>,
): Promise<{ ack: StoredAck | null; duplicate: boolean }> {
  if (!clientId) return { ack: await store(), duplicate: false };
  const key = redisKey.chatClientId(deps.config.queuePrefix, tenantId, sessionId, clientId);
  for (let round = 0; round < 2; round++) {
    if ((await deps.redis.set(key, 'pending', 'EX', PENDING_TTL_S, 'NX')) === 'OK') {
      let ack: StoredAck | null;
      try {
        ack = await store();
      } catch (err) {
        await settleClaim(() => deps.redis.del(key)).catch(() => undefined);
        throw err;
      }
      // The message is stored: its ack must be recorded, or a resend would wait on the pending mark and
      // then store a second copy. Redis restarting meanwhile (a fail-fast client errors at once) only
      // delays this, so it is retried for as long as the mark would have lasted anyway.
      if (!ack) await settleClaim(() => deps.redis.del(key));
      else await settleClaim(() => deps.redis.set(key, JSON.stringify(ack), 'EX', DONE_TTL_S));
      return { ack, duplicate: false };
    }
    // Another arrival holds it: wait for its ack (or for its claim to go, then claim it ourselves).
    for (let i = 0; i < WAIT_STEPS; i++) {
      const v = await deps.redis.get(key);
      if (v === null) break;
      if (v !== 'pending') return { ack: JSON.parse(v) as StoredAck, duplicate: true };
      await new Promise((r) => setTimeout(r, WAIT_STEP_MS));
    }
  }
  throw new ApiError('CONFLICT', 'This message is still being stored; send it again in a moment.');
}

/** Retries a claim's last write through a Redis outage, for up to SETTLE_MS. */
async function settleClaim(write: () => Promise<unknown>): Promise<void> {
  const until = Date.now() + SETTLE_MS;
  for (let wait = 50; ; wait = Math.min(wait * 2, 1000)) {
    try {
      await write();
      return;
    } catch (err) {
      if (Date.now() + wait > until) throw err;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
