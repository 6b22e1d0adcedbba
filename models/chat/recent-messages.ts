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
import type { Redis } from 'ioredis';
import { redisKey } from '../../platform/keys.js';
import type { RedisKeyDeps } from '../platform/deps.js';
import { messagesAfter, messageView, type MessageView } from './message.js';

/** Messages kept per conversation: far more than any reconnect replays. */
export const RECENT_KEEP = 1000;
/** Same lifetime as the conversation's state hash (conversation-state.ts), refreshed by every message. */
const RECENT_TTL_MS = 7 * 24 * 3600 * 1000;

// KEYS[1] the set; ARGV: seq, member, keep, ttl.
const ADD_LUA = `redis.call('zadd', KEYS[1], ARGV[1], ARGV[2])
redis.call('zremrangebyrank', KEYS[1], 0, -tonumber(ARGV[3]) - 1)
redis.call('pexpire', KEYS[1], ARGV[4])
return 1`;
// KEYS[1] the set; ARGV: after, limit. False when the set does not reach back to after + 1.
const AFTER_LUA = `local first = redis.call('zrange', KEYS[1], 0, 0, 'WITHSCORES')
if #first == 0 or tonumber(first[2]) > tonumber(ARGV[1]) + 1 then return false end
return redis.call('zrangebyscore', KEYS[1], '(' .. ARGV[1], '+inf', 'LIMIT', 0, tonumber(ARGV[2]))`;

type RecentRedis = Redis & {
  chatRecentAdd(key: string, seq: number, member: string, keep: number, ttlMs: number): Promise<number>;
  chatRecentAfter(key: string, after: number, limit: number): Promise<string[] | null>;
};

function scripts(redis: Redis): RecentRedis {
  const r = redis as RecentRedis;
  if (typeof r.chatRecentAfter !== 'function') {
    r.defineCommand('chatRecentAdd', { numberOfKeys: 1, lua: ADD_LUA });
    r.defineCommand('chatRecentAfter', { numberOfKeys: 1, lua: AFTER_LUA });
  }
  return r;
}

const key = (deps: RedisKeyDeps, tenantId: string, conversationId: string) =>
  redisKey.conversationRecent(deps.config.queuePrefix, tenantId, conversationId);

/** Puts a numbered message into its conversation's recent set. */
export async function rememberMessage(deps: RedisKeyDeps, tenantId: string, m: MessageView): Promise<void> {
  await scripts(deps.redis).chatRecentAdd(key(deps, tenantId, m.conversation_id), m.seq, JSON.stringify(m), RECENT_KEEP, RECENT_TTL_MS);
}

/** The highest number in the recent set (0 when it is empty or gone). */
export async function lastRecentSeq(deps: RedisKeyDeps, tenantId: string, conversationId: string): Promise<number> {
  const top = await deps.redis.zrange(key(deps, tenantId, conversationId), -1, -1, 'WITHSCORES');
  return top.length === 2 ? Number(top[1]) : 0;
}

/** Messages with seq > `afterSeq`, in order, at most `limit`: from Redis when it has them, else MongoDB and Redis merged. */
export async function messagesAfterSeq(
  deps: RedisKeyDeps,
  tenantId: string,
  conversationId: string,
  afterSeq: number,
  limit = 500,
): Promise<MessageView[]> {
  const k = key(deps, tenantId, conversationId);
  const hot = await scripts(deps.redis).chatRecentAfter(k, afterSeq, limit);
  if (hot) return hot.map((m) => JSON.parse(m) as MessageView);
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
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq).slice(0, limit);
}
