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
 *
 * A claim is owned: its pending mark holds a token of the arrival that set it, and it is given back
 * by compare-and-delete. A claim whose answer never came back (Redis executed the SET, then died or
 * the connection dropped before the reply: the client cannot tell) is given back too, once Redis is
 * reachable again. Before, such a mark had no owner and blocked every resend of the message for the
 * mark's whole lifetime (30 s), which is how a chat message went unacknowledged for 30 s after a Redis
 * restart in the durability test.
 */
import type { RedisKeyDeps } from '../../../models/platform/deps.js';
import { releaseIfHeld, settleClaim } from '../../../platform/claims.js';
import { newId } from '../../../platform/ids.js';
import { redisKey } from '../../../platform/keys.js';
import { ApiError } from '../../errors.js';

export type StoredAck = { message_id: string; seq: number; conversation_id: string };

const DONE_TTL_S = 86_400;
/** A claim in progress: this prefix and its holder's token (an ack is JSON, never starts so; a mark set
 * before marks had tokens is the bare word, also read as pending). */
const PENDING = 'pending:';
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
    const mark = `${PENDING}${newId('req')}`;
    const giveBack = () => settleClaim(() => releaseIfHeld(deps.redis, key, mark), SETTLE_MS);
    let held: string | null | 'claimed';
    try {
      held = (await deps.redis.set(key, mark, 'EX', PENDING_TTL_S, 'NX')) === 'OK' ? 'claimed' : await deps.redis.get(key);
    } catch (err) {
      // No answer: the claim may be held all the same. Give it back (if it is ours) once Redis answers.
      await giveBack().catch(() => undefined);
      throw err;
    }
    // Our own mark under a refused SET: the client resent the SET after a dropped connection, and the
    // first one had been executed.
    if (held === 'claimed' || held === mark) {
      let ack: StoredAck | null;
      try {
        ack = await store();
      } catch (err) {
        await giveBack().catch(() => undefined);
        throw err;
      }
      // The message is stored: its ack must be recorded, or a resend would wait on the pending mark and
      // then store a second copy. Redis restarting meanwhile (a fail-fast client errors at once) only
      // delays this, so it is retried for as long as the mark would have lasted anyway.
      if (!ack) await giveBack();
      else await settleClaim(() => deps.redis.set(key, JSON.stringify(ack), 'EX', DONE_TTL_S), SETTLE_MS);
      return { ack, duplicate: false };
    }
    // Another arrival holds it: wait for its ack (or for its claim to go, then claim it ourselves).
    for (let i = 0, v = held; i < WAIT_STEPS; i++, v = await deps.redis.get(key)) {
      if (v === null) break;
      if (!v.startsWith('pending')) return { ack: JSON.parse(v) as StoredAck, duplicate: true };
      await new Promise((r) => setTimeout(r, WAIT_STEP_MS));
    }
  }
  throw new ApiError('CONFLICT', 'This message is still being stored; send it again in a moment.');
}
