/**
 * A conversation's latest messages, in Redis: a sorted set per conversation (score = seq, member =
 * the message's JSON view), trimmed to the last RECENT_KEEP. A message is put here by the process
 * that numbered it, right after its store job is queued, so the set holds what MongoDB may not have
 * yet (the chat-history worker writes it in batches).
 *
 * Reads after a number (a reconnect's replay, a gap, the conversation routes) are served from the
 * set when it reaches back far enough: one Redis call, whatever the size of the message collection
 * (FerretDB filters a conversation's messages by scanning the whole collection). Older ranges, or a
 * conversation idle long enough for its set to expire, fall back to MongoDB, merged with the set for
 * messages not stored yet.
 */
import { redisKey } from '../../platform/keys.js';
import { defineScript } from '../../platform/redis-scripts.js';
import type { RedisKeyDeps } from '../platform/deps.js';
import { messagesAfter, messageView, type MessageView } from './message.js';

/** Messages kept per conversation: far more than any reconnect replays. */
export const RECENT_KEEP = 1000;
/** Same lifetime as the conversation's state hash (conversation-state.ts), refreshed by every message. */
const RECENT_TTL_MS = 7 * 24 * 3600 * 1000;

// platform/lua/chat-recent-add.lua and chat-recent-after.lua (their headers say what each takes and answers).
const ADD = defineScript<[set: string, inFlight: string], [seq: number, member: string, keep: number, ttlMs: number], number>(
  'chat-recent-add',
);
const AFTER = defineScript<[set: string, inFlight: string], [after: number, limit: number], [0 | 1, string[], number[]]>(
  'chat-recent-after',
);

const key = (deps: RedisKeyDeps, tenantId: string, conversationId: string) =>
  redisKey.conversationRecent(deps.config.queuePrefix, tenantId, conversationId);
const inFlightKey = (deps: RedisKeyDeps, tenantId: string, conversationId: string) =>
  redisKey.conversationInFlight(deps.config.queuePrefix, tenantId, conversationId);

/** Puts a numbered message into its conversation's recent set (and its number out of flight). */
export async function rememberMessage(deps: RedisKeyDeps, tenantId: string, m: MessageView): Promise<void> {
  await ADD.run(
    deps.redis,
    [key(deps, tenantId, m.conversation_id), inFlightKey(deps, tenantId, m.conversation_id)],
    [m.seq, JSON.stringify(m), RECENT_KEEP, RECENT_TTL_MS],
  );
}

/** Takes a number out of flight without a message (its job could not be queued): readers pass over it at once. */
export async function abandonSeq(deps: RedisKeyDeps, tenantId: string, conversationId: string, seq: number): Promise<void> {
  await deps.redis.zrem(inFlightKey(deps, tenantId, conversationId), String(seq));
}

/** The highest number in the recent set (0 when it is empty or gone). */
export async function lastRecentSeq(deps: RedisKeyDeps, tenantId: string, conversationId: string): Promise<number> {
  const top = await deps.redis.zrange(key(deps, tenantId, conversationId), -1, -1, 'WITHSCORES');
  return top.length === 2 ? Number(top[1]) : 0;
}

/**
 * What a reader finds after a number: the messages (in order, at most `limit`), and the numbers
 * above it still being written, each with how long ago it was taken (Redis time, so the reader's
 * own delays do not count): a gap below a number in flight will be filled; any other gap will not.
 */
export type AfterSeq = { messages: MessageView[]; inFlight: Map<number, number> };

/** Messages with seq > `afterSeq` and the numbers in flight: from Redis when it has them, else MongoDB and Redis merged. */
export async function readAfterSeq(
  deps: RedisKeyDeps,
  tenantId: string,
  conversationId: string,
  afterSeq: number,
  limit = 500,
): Promise<AfterSeq> {
  const k = key(deps, tenantId, conversationId);
  const [reaches, hot, flying] = await AFTER.run(deps.redis, [k, inFlightKey(deps, tenantId, conversationId)], [afterSeq, limit]);
  const inFlight = new Map<number, number>();
  for (let i = 0; i + 1 < flying.length; i += 2) inFlight.set(Number(flying[i]), Number(flying[i + 1]));
  if (reaches === 1) return { messages: hot.map((m) => JSON.parse(m) as MessageView), inFlight };
  const [stored, recent] = await Promise.all([
    messagesAfter(tenantId, conversationId, afterSeq, limit),
    deps.redis.zrangebyscore(k, `(${afterSeq}`, '+inf', 'LIMIT', 0, limit),
  ]);
  const bySeq = new Map<number, MessageView>();
  for (const m of stored) bySeq.set(m.seq, messageView(m));
  for (const raw of recent) {
    const m = JSON.parse(raw) as MessageView;
    if (!bySeq.has(m.seq)) bySeq.set(m.seq, m);
  }
  return { messages: [...bySeq.values()].sort((a, b) => a.seq - b.seq).slice(0, limit), inFlight };
}

/** Messages with seq > `afterSeq`, in order, at most `limit`: from Redis when it has them, else MongoDB and Redis merged. */
export async function messagesAfterSeq(
  deps: RedisKeyDeps,
  tenantId: string,
  conversationId: string,
  afterSeq: number,
  limit = 500,
): Promise<MessageView[]> {
  return (await readAfterSeq(deps, tenantId, conversationId, afterSeq, limit)).messages;
}
