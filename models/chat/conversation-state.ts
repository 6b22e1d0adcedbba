/**
 * The hot state of a conversation, kept in one Redis hash so that a chat message costs MongoDB only
 * its own (group-committed) insert — no read, no `$inc`, no lock:
 *   - sequence numbers come from HINCRBY on the hash, within leases of LEASE numbers recorded in
 *     MongoDB (`seq_reserved`, one write per LEASE messages, under the conversation lock). If Redis
 *     loses the hash, numbering resumes after the last stored message; the unique (conversation, seq)
 *     index makes a number still in flight from before the loss a duplicate-key error, retried;
 *   - what routing a message needs (session, routing key, assignee, status, ticket).
 *
 * Coherence with MongoDB: every state change goes through `changeConversation` (by a transition of
 * conversation-machine.ts), which holds the conversation lock, marks the hash stale, writes MongoDB,
 * then writes the new state into the hash. A message that finds the hash missing, stale or out of numbers reloads it from MongoDB under the
 * same lock. So a process dying between the two writes leaves a stale mark, never a wrong routing.
 */
import { DomainError } from '../../platform/errors.js';
import { redisKey } from '../../platform/keys.js';
import { defineScript } from '../../platform/redis-scripts.js';
import { ConversationModel, type ConversationDoc, type ConversationStatus } from './conversation.js';
import { conversationGuard, type ConversationTransition, type ConversationWho } from './conversation-machine.js';
import { MessageModel } from './message.js';
import { lastRecentSeq } from './recent-messages.js';
import { withConversationLock, type LockDeps } from './conversation-lock.js';

/** Sequence numbers per lease (one MongoDB write per this many messages of a conversation). */
export const LEASE = 200;
/** An idle conversation's hash leaves Redis after this; its next message reloads it. */
const STATE_TTL_MS = 7 * 24 * 3600 * 1000;

/** What routing and callbacks need of a conversation; a ConversationDoc is one too. */
export type ConvFacts = {
  _id: string;
  tenant_id: string;
  session_id: string;
  routing_key?: string | null;
  assignee_operator_id?: string | null;
  status: string;
  ticket_id?: string | null;
  last_seq: number;
};

export type ConvState = ConvFacts & {
  tenant_id: string;
  session_id: string;
  routing_key: string | null;
  assignee_operator_id: string | null;
  status: ConversationStatus;
  ticket_id: string | null;
  /** The last sequence number handed out (the conversation's latest message, or one being stored). */
  last_seq: number;
};

// platform/lua/chat-conversation-read.lua, -next.lua and -mark-stale.lua: READ and NEXT answer null
// when the caller must reload (hash missing, stale, or for NEXT the lease used up), else the fields
// fromHash reads, in its order. NEXT also marks the number in flight until its message is in the
// recent set, so a reader at a gap can tell a message still being written from a number nobody
// will fill (api/chat/ws/sequencer.ts).
type HashFields = (string | null)[] | null;
const READ = defineScript<[state: string], [], HashFields>('chat-conversation-read');
const NEXT = defineScript<[state: string, inFlight: string], [ttlMs: number, forgetMs: number], HashFields>('chat-conversation-next');
const MARK_STALE = defineScript<[state: string], [], 1 | 0 | -1>('chat-conversation-mark-stale');
/** A dead writer's in-flight mark is dropped after this (readers pass its number over long before: IN_FLIGHT_GIVE_UP_MS). */
const IN_FLIGHT_FORGET_MS = 3600 * 1000;
const stateKey = (deps: LockDeps, tenantId: string, conversationId: string) =>
  redisKey.conversationState(deps.config.queuePrefix, tenantId, conversationId);

function fromHash(tenantId: string, conversationId: string, v: (string | null)[]): ConvState {
  const [status, session, rk, assignee, ticket, seq] = v;
  return {
    _id: conversationId,
    tenant_id: tenantId,
    session_id: session ?? '',
    routing_key: rk || null,
    assignee_operator_id: assignee || null,
    status: status as ConversationStatus,
    ticket_id: ticket || null,
    last_seq: Number(seq),
  };
}

/** Writes the state of `doc` (and a sequence window) into the hash and clears the stale mark. */
async function writeHash(deps: LockDeps, doc: ConversationDoc, window: { seq?: number; ceil: number }): Promise<void> {
  const key = stateKey(deps, doc.tenant_id, doc._id);
  const values: Record<string, string | number> = {
    status: doc.status,
    session: doc.session_id,
    rk: doc.routing_key ?? '',
    assignee: doc.assignee_operator_id ?? '',
    ticket: doc.ticket_id ?? '',
    ceil: window.ceil,
  };
  if (window.seq !== undefined) values.seq = window.seq;
  await deps.redis.multi().hset(key, values).hdel(key, 'stale').pexpire(key, STATE_TTL_MS).exec();
}

/** The last number used: in MongoDB, or in the recent set for a message not written there yet. */
async function lastStoredSeq(deps: LockDeps, tenantId: string, conversationId: string): Promise<number> {
  const [last, recent] = await Promise.all([
    MessageModel.findOne({ tenant_id: tenantId, conversation_id: conversationId })
      .sort({ seq: -1 })
      .select({ seq: 1 })
      .lean<{ seq: number }>(),
    lastRecentSeq(deps, tenantId, conversationId),
  ]);
  return Math.max(last?.seq ?? 0, recent);
}

/**
 * Reloads the hash from MongoDB under the conversation lock; with `lease`, also makes sure numbers
 * are left to hand out. Null when the conversation does not exist in this tenant.
 */
async function reload(deps: LockDeps, tenantId: string, conversationId: string, lease: boolean): Promise<void | null> {
  return withConversationLock(deps, tenantId, conversationId, async () => {
    const key = stateKey(deps, tenantId, conversationId);
    const doc = await ConversationModel.findOne({ _id: conversationId, tenant_id: tenantId }).lean<ConversationDoc>();
    if (!doc) return null;
    const [seqRaw, ceilRaw] = await deps.redis.hmget(key, 'seq', 'ceil');
    const live = seqRaw !== null && ceilRaw !== null;
    const reserved = Math.max(doc.seq_reserved ?? 0, doc.last_seq ?? 0);
    // Without the hash, numbering resumes after the last message (in MongoDB or still in the recent
    // set; read only for a conversation that ever had numbers): no hole for clients to wait on, and
    // views show the real last number. Should a number be handed out twice anyway, the unique index
    // turns the second write into a duplicate-key error and the chat-history worker renumbers it.
    const seq = live ? Number(seqRaw) : reserved > 0 ? await lastStoredSeq(deps, tenantId, conversationId) : 0;
    let ceil = live ? Number(ceilRaw) : reserved;
    if (lease && seq >= ceil) {
      ceil = Math.max(ceil, reserved) + LEASE;
      // Under the lock, so no other process raises it meanwhile; `$max` keeps a later lease.
      await ConversationModel.updateOne(
        { _id: conversationId, tenant_id: tenantId },
        { $max: { seq_reserved: ceil, last_seq: seq } },
        { timestamps: false },
      );
    }
    // A live counter is left alone: messages may be taking numbers from it right now.
    await writeHash(deps, doc, live ? { ceil } : { seq, ceil });
  });
}

/** Runs READ or NEXT on the conversation's hash (by SHA: the script text travels once per connection, not per message). */
async function run(deps: LockDeps, which: 'read' | 'next', tenantId: string, conversationId: string): Promise<ConvState | null> {
  const key = stateKey(deps, tenantId, conversationId);
  const v =
    which === 'next'
      ? await NEXT.run(
          deps.redis,
          [key, redisKey.conversationInFlight(deps.config.queuePrefix, tenantId, conversationId)],
          [STATE_TTL_MS, IN_FLIGHT_FORGET_MS],
        )
      : await READ.run(deps.redis, [key], []);
  return v ? fromHash(tenantId, conversationId, v) : null;
}

/** Runs `which` against the hash, reloading it from MongoDB when it answers "reload"; null if not this tenant's. */
async function withHash(deps: LockDeps, which: 'read' | 'next', tenantId: string, conversationId: string): Promise<ConvState | null> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const s = await run(deps, which, tenantId, conversationId);
    if (s) return s;
    if ((await reload(deps, tenantId, conversationId, which === 'next')) === null) return null;
  }
  throw new DomainError('STORE_UNAVAILABLE', 'This conversation is busy; try again shortly.', [], 1);
}

/** The conversation's routing state, from Redis (reloaded from MongoDB when needed); null if it is not this tenant's. */
export function conversationState(deps: LockDeps, tenantId: string, conversationId: string): Promise<ConvState | null> {
  return withHash(deps, 'read', tenantId, conversationId);
}

/** Takes the next sequence number; the state returned is the conversation as it was at that moment. */
export function nextSeq(deps: LockDeps, tenantId: string, conversationId: string): Promise<ConvState | null> {
  return withHash(deps, 'next', tenantId, conversationId);
}

/** Forgets the hash (after a sequence number turned out to be taken): the next message reloads it from the last stored one. */
export async function dropConversationState(deps: LockDeps, tenantId: string, conversationId: string): Promise<void> {
  await withConversationLock(deps, tenantId, conversationId, async () => {
    await deps.redis.del(stateKey(deps, tenantId, conversationId));
  });
}

/** A state change: the table's transitions it may be (all leading to one state), who makes it, and what it may see. */
export type ConversationChange = {
  transitions: readonly ConversationTransition[];
  by: ConversationWho;
  /** Which conversations `by` may see beyond the tenant (an operator's routing keys); not a state guard. */
  scope?: Record<string, unknown>;
};

/**
 * The one way a conversation's state changes: the transition named (conversation-machine.ts), as a
 * guarded findOneAndUpdate whose filter the table gives (on top of id, tenant and `scope`), under the
 * conversation lock, with the Redis hash marked stale around it. `set` holds the other fields; the
 * status is the transition's `to`. Returns the updated conversation, its `last_seq` the live one;
 * null when the guard did not match (or the table lets `by` make none of them).
 */
export async function changeConversation(
  deps: LockDeps,
  tenantId: string,
  conversationId: string,
  change: ConversationChange,
  set: Record<string, unknown>,
): Promise<ConversationDoc | null> {
  const guard = conversationGuard(change.transitions, change.by);
  if (!guard) return null;
  return withConversationLock(deps, tenantId, conversationId, async () => {
    const key = stateKey(deps, tenantId, conversationId);
    const marked = await MARK_STALE.run(deps.redis, [key], []);
    const [seqRaw, ceilRaw] = await deps.redis.hmget(key, 'seq', 'ceil');
    const doc = await ConversationModel.findOneAndUpdate(
      { ...change.scope, ...guard.filter, _id: conversationId, tenant_id: tenantId },
      { $set: { ...set, status: guard.to }, ...(seqRaw !== null ? { $max: { last_seq: Number(seqRaw) } } : {}) },
      { new: true },
    ).lean<ConversationDoc>();
    if (seqRaw !== null && ceilRaw !== null) {
      if (doc) await writeHash(deps, doc, { ceil: Number(ceilRaw) });
      // Nothing changed: the hash is as right as before, so only our own mark goes; a mark a dead
      // process left stays, and the next reader reloads.
      else if (marked === 1) await deps.redis.hdel(key, 'stale');
    }
    return doc;
  });
}

/** The live `last_seq` of these conversations (MongoDB's may lag behind by the messages since the last change). */
export async function withLiveSeq<T extends { _id: string; tenant_id: string; last_seq: number }>(deps: LockDeps, docs: T[]): Promise<T[]> {
  if (!docs.length) return docs;
  const pipe = deps.redis.pipeline();
  for (const d of docs) pipe.hget(stateKey(deps, d.tenant_id, d._id), 'seq');
  const res = (await pipe.exec()) ?? [];
  return docs.map((d, i) => {
    const live = Number(res[i]?.[1] ?? NaN);
    return Number.isFinite(live) && live > d.last_seq ? { ...d, last_seq: live } : d;
  });
}

/** `withLiveSeq` for one conversation. */
export async function oneWithLiveSeq<T extends { _id: string; tenant_id: string; last_seq: number }>(deps: LockDeps, doc: T): Promise<T> {
  return (await withLiveSeq(deps, [doc]))[0] ?? doc;
}
