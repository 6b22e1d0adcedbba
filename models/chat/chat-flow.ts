/**
 * The one place a conversation changes (SPEC §3.2–3.4, §3.6), shared by the REST routes, the
 * WebSockets and the chat worker. Each change follows the same order:
 *   1. one guarded write in MongoDB (the state we expect is part of the filter, so a race has one winner);
 *   2. publish to the tenant's fan-out channel (Redis pub/sub), which every API process relays to its
 *      own sockets;
 *   3. the signed callback, through emitEvent (stored, then delivered by the worker).
 * Messages are stored with their sequence number before anyone hears about them, so a socket that
 * misses a publication (or reconnects) reads exactly the missing range from MongoDB.
 */
import type { Redis } from 'ioredis';
import type { Config } from '../../platform/config.js';
import { ApiError } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import type { Logger } from '../../platform/logger.js';
import { emitEvent } from '../platform/emit-event.js';
import type { Producer } from '../../queues/producer.js';
import { BatchInserter, DuplicateKeyError } from '../platform/batch-insert.js';
import {
  ConversationModel,
  conversationView,
  routingAllows,
  routingFilter,
  type ConversationDoc,
  type ConversationView,
} from './conversation.js';
import {
  changeConversation,
  conversationState,
  dropConversationState,
  nextSeq,
  type ConvFacts,
  type ConvState,
} from './conversation-state.js';
import { MessageModel, messageView, type MessageView, type SenderType } from './message.js';
import type { OperatorDoc } from './operator.js';
import type { TenantDoc } from '../platform/tenant.js';
import { TicketModel, type TicketDoc } from './ticket.js';
import { VisitorSessionModel, type VisitorSessionDoc } from './visitor-session.js';

export type FlowDeps = { config: Config; logger: Logger; redis: Redis; producer: Producer };

/** The nine chat callbacks (SPEC §3.6), sent to `{callback_url_base}/api/v1/chat-callbacks/{event}`. */
export const CHAT_EVENTS = [
  'conversation-started',
  'message-received',
  'ticket-created',
  'ticket-assigned',
  'ticket-resolved',
  'escalation-triggered',
  'agent-assigned',
  'agent-released',
  'agent-resolved',
] as const;
export type ChatEvent = (typeof CHAT_EVENTS)[number];

// ---------------------------------------------------------------------------------------------
// Fan-out bus
// ---------------------------------------------------------------------------------------------

/** What travels on the bus: routing facts (who may see it) plus one neutral event. */
export type BusEvent = {
  tenant_id: string;
  session_id: string;
  conversation_id: string;
  routing_key: string | null;
  assignee: string | null;
  /** Sender side, for typing/read (who must not get an echo). */
  from?: 'visitor' | 'operator' | 'bot' | 'system';
} & (
  | { kind: 'message'; message: MessageView }
  | {
      kind: 'conversation';
      change: ConversationChange;
      conversation: ConversationView;
      operator?: { id: string; display_name: string } | null;
    }
  | { kind: 'typing'; on: boolean; operator_id?: string }
  | { kind: 'read'; seq: number }
);
export type ConversationChange = 'started' | 'escalated' | 'assigned' | 'released' | 'resolved' | 'reopened';

/** One channel per tenant: an API process subscribes to the tenants it has sockets for. */
export function chatChannel(prefix: string, tenantId: string): string {
  return `${prefix}:chat:{${tenantId}}`;
}

export async function publish(deps: FlowDeps, ev: BusEvent): Promise<void> {
  try {
    await deps.redis.publish(chatChannel(deps.config.queuePrefix, ev.tenant_id), JSON.stringify(ev));
  } catch (err) {
    // The change is stored: sockets catch up from MongoDB on their next message or reconnect.
    deps.logger.warn({ conversation_id: ev.conversation_id, err: String(err) }, 'chat publish failed');
  }
}

function busBase(c: ConvFacts) {
  return {
    tenant_id: c.tenant_id,
    session_id: c.session_id,
    conversation_id: c._id,
    routing_key: c.routing_key ?? null,
    assignee: c.assignee_operator_id ?? null,
  };
}

// ---------------------------------------------------------------------------------------------
// Callbacks
// ---------------------------------------------------------------------------------------------

/** Emits one chat callback; every payload names the conversation, its session and its sequence. */
export async function chatCallback(
  deps: FlowDeps,
  tenant: TenantDoc,
  event: ChatEvent,
  c: ConvFacts,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const data = {
    conversation_id: c._id,
    session_id: c.session_id,
    ticket_id: c.ticket_id ?? null,
    routing_key: c.routing_key ?? null,
    status: c.status,
    assignee_operator_id: c.assignee_operator_id ?? null,
    seq: c.last_seq,
    ...extra,
  };
  try {
    await emitEvent(
      deps,
      { tenantId: tenant._id, callbackUrlBase: tenant.callback_url_base, path: `/api/v1/chat-callbacks/${event}` },
      `chat.${event}`,
      data,
    );
  } catch (err) {
    deps.logger.error({ conversation_id: c._id, event, err: String(err) }, 'chat callback could not be stored');
  }
}

// ---------------------------------------------------------------------------------------------
// Conversations
// ---------------------------------------------------------------------------------------------

/** The session's conversation, created on first use (bot lane when a bot is configured and asked for, else human lane). */
export async function ensureConversation(deps: FlowDeps, tenant: TenantDoc, session: VisitorSessionDoc): Promise<ConversationDoc> {
  if (session.conversation_id) {
    const existing = await ConversationModel.findOne({ _id: session.conversation_id, tenant_id: tenant._id }).lean<ConversationDoc>();
    if (existing) return existing;
  }
  const botLane = session.mode === 'bot' && !!tenant.bot_webhook_url;
  const now = new Date();
  let conv: ConversationDoc;
  try {
    const created = await ConversationModel.create({
      _id: newId('cnv'),
      tenant_id: tenant._id,
      session_id: session._id,
      routing_key: session.routing_key ?? null,
      status: botLane ? 'bot' : 'pending',
      queued_at: botLane ? null : now,
      last_seq: 0,
    });
    conv = created.toObject() as unknown as ConversationDoc;
  } catch (err) {
    // Two first messages racing: the unique (tenant, session) index lets one conversation exist.
    if ((err as { code?: number }).code !== 11000) throw err;
    const other = await ConversationModel.findOne({ tenant_id: tenant._id, session_id: session._id }).lean<ConversationDoc>();
    if (!other) throw err;
    return other;
  }
  await VisitorSessionModel.updateOne({ _id: session._id, tenant_id: tenant._id }, { $set: { conversation_id: conv._id } });
  await publish(deps, { ...busBase(conv), kind: 'conversation', change: 'started', conversation: conversationView(conv) });
  await chatCallback(deps, tenant, 'conversation-started', conv, { lane: botLane ? 'bot' : 'human' });
  return conv;
}

// Messages are group-committed: concurrent messages (of any conversation) share one insertMany.
const messageInserts = new BatchInserter(() => MessageModel.collection);

/**
 * Stores a message, then fans it out, then calls back. The sequence number and the routing state
 * come from Redis (conversation-state.ts), so MongoDB sees only the insert.
 */
export async function appendMessage(
  deps: FlowDeps,
  tenant: TenantDoc,
  conversationId: string,
  sender: { type: SenderType; id: string | null },
  text: string,
): Promise<{ message: MessageView; state: ConvState }> {
  for (let attempt = 0; ; attempt++) {
    const state = await nextSeq(deps, tenant._id, conversationId);
    if (!state) throw new ApiError('NOT_FOUND', 'Conversation not found.');
    const now = new Date();
    const doc = {
      _id: newId('msg'),
      tenant_id: tenant._id,
      conversation_id: conversationId,
      seq: state.last_seq,
      sender_type: sender.type,
      sender_id: sender.id,
      text,
      created_at: now,
      updated_at: now,
    };
    try {
      await messageInserts.insert(doc);
    } catch (err) {
      // A taken number: Redis lost the conversation's state while a message was being stored, and
      // numbering resumed below it. Reload the state (from the last stored message) and try again.
      if (err instanceof DuplicateKeyError && attempt < 5) {
        deps.logger.warn(
          { conversation_id: conversationId, seq: state.last_seq },
          'chat sequence number already used; reloading the conversation state',
        );
        await dropConversationState(deps, tenant._id, conversationId);
        continue;
      }
      throw err;
    }
    const message = messageView(doc);
    await publish(deps, { ...busBase(state), kind: 'message', message });
    // After the fan-out: the callback's bookkeeping never delays delivery to the sockets. A tenant
    // without a receiver gets no per-message event record (the message itself is the record).
    if (tenant.callback_url_base) await chatCallback(deps, tenant, 'message-received', state, { message });
    return { message, state };
  }
}

/**
 * A visitor's message: create or reopen the conversation, store the message, and hand it to the bot
 * when the conversation is in the bot lane.
 */
export async function visitorMessage(deps: FlowDeps, tenant: TenantDoc, session: VisitorSessionDoc, text: string): Promise<MessageView> {
  // Hot path: a session that already has its conversation goes straight to the append (no read first);
  // the state at the moment its number was taken tells whether it must reopen or go to the bot.
  const conversationId = session.conversation_id ?? (await ensureConversation(deps, tenant, session))._id;
  const { message, state } = await appendMessage(deps, tenant, conversationId, { type: 'visitor', id: session._id }, text);
  if (state.status === 'resolved') {
    const reopened = await changeConversation(
      deps,
      tenant._id,
      conversationId,
      { status: 'resolved' },
      { status: 'pending', assignee_operator_id: null, queued_at: new Date(), resolved_at: null },
    );
    if (reopened)
      await publish(deps, { ...busBase(reopened), kind: 'conversation', change: 'reopened', conversation: conversationView(reopened) });
  }
  if (state.status === 'bot') {
    await deps.producer.enqueue('chat.bot-turn', { tenantId: tenant._id, conversationId, messageId: message.id });
  }
  return message;
}

/** Bot → human lane: queue it (pending), open a ticket. Only a conversation still in the bot lane escalates. */
export async function escalate(deps: FlowDeps, tenant: TenantDoc, conversationId: string, reason: string): Promise<ConversationDoc | null> {
  const ticketId = newId('tkt');
  const conv = await changeConversation(
    deps,
    tenant._id,
    conversationId,
    { status: 'bot' },
    { status: 'pending', queued_at: new Date(), ticket_id: ticketId },
  );
  if (!conv) return null;
  await TicketModel.create({
    _id: ticketId,
    tenant_id: tenant._id,
    conversation_id: conv._id,
    routing_key: conv.routing_key ?? null,
    status: 'open',
    reason,
  });
  await publish(deps, { ...busBase(conv), kind: 'conversation', change: 'escalated', conversation: conversationView(conv) });
  await chatCallback(deps, tenant, 'escalation-triggered', conv, { reason });
  await chatCallback(deps, tenant, 'ticket-created', conv, { reason });
  return conv;
}

const opRef = (op: OperatorDoc) => ({ id: op._id, display_name: op.display_name });

/** Which conversations an operator may see: its tenant and its routing keys (admins: the whole tenant). */
export function operatorScope(op: OperatorDoc, role: string): Record<string, unknown> {
  return { tenant_id: op.tenant_id, ...(role === 'admin' ? {} : routingFilter(op.routing_keys)) };
}

async function notVisibleOrConflict(op: OperatorDoc, role: string, conversationId: string, conflict: string): Promise<never> {
  const visible = await ConversationModel.exists({ _id: conversationId, ...operatorScope(op, role) });
  if (!visible) throw new ApiError('NOT_FOUND', 'Conversation not found.');
  throw new ApiError('CONFLICT', conflict);
}

type Transition = {
  /** Who may make this change, beyond the operator's tenant and routing-key scope. */
  filter: Record<string, unknown>;
  set: Record<string, unknown>;
  /** The 409 message when the conversation is visible but not in a state this operator can change. */
  conflict: string;
  change: 'assigned' | 'released' | 'resolved';
  callback: 'agent-assigned' | 'agent-released' | 'agent-resolved';
};

/**
 * One operator-driven state change: a guarded update under the conversation's Redis lock (guarded
 * updates alone are not atomic on FerretDB), 404/409 when it does not apply, then the bus event and
 * the tenant callback. Take, release and resolve differ only in their Transition and ticket follow-up.
 */
async function operatorTransition(
  deps: FlowDeps,
  tenant: TenantDoc,
  op: OperatorDoc,
  role: string,
  conversationId: string,
  t: Transition,
): Promise<ConversationDoc> {
  const conv = await changeConversation(deps, tenant._id, conversationId, { ...operatorScope(op, role), ...t.filter }, t.set);
  if (!conv) return notVisibleOrConflict(op, role, conversationId, t.conflict);
  await publish(deps, {
    ...busBase(conv),
    kind: 'conversation',
    change: t.change,
    conversation: conversationView(conv),
    operator: opRef(op),
  });
  await chatCallback(deps, tenant, t.callback, conv, { operator_id: op._id });
  return conv;
}

/** Take: atomic; of two operators racing for one pending conversation, exactly one wins (the other gets 409). */
export async function takeConversation(
  deps: FlowDeps,
  tenant: TenantDoc,
  op: OperatorDoc,
  role: string,
  conversationId: string,
): Promise<ConversationDoc> {
  const now = new Date();
  const conv = await operatorTransition(deps, tenant, op, role, conversationId, {
    filter: { status: 'pending' },
    set: { status: 'assigned', assignee_operator_id: op._id, assigned_at: now },
    conflict: 'This conversation is not waiting in the queue (already taken, in the bot lane or resolved).',
    change: 'assigned',
    callback: 'agent-assigned',
  });
  if (conv.ticket_id) {
    const t = await TicketModel.findOneAndUpdate(
      { _id: conv.ticket_id, tenant_id: tenant._id, status: 'open' },
      { $set: { status: 'assigned', assignee_operator_id: op._id, assigned_at: now } },
      { new: true },
    ).lean<TicketDoc>();
    if (t) await chatCallback(deps, tenant, 'ticket-assigned', conv, { operator_id: op._id });
  }
  return conv;
}

/** Release: back to the queue (pending); only the assignee can release. */
export async function releaseConversation(
  deps: FlowDeps,
  tenant: TenantDoc,
  op: OperatorDoc,
  role: string,
  conversationId: string,
): Promise<ConversationDoc> {
  const conv = await operatorTransition(deps, tenant, op, role, conversationId, {
    filter: { status: 'assigned', assignee_operator_id: op._id },
    set: { status: 'pending', assignee_operator_id: null, assigned_at: null, queued_at: new Date() },
    conflict: 'Only the operator assigned to this conversation can release it.',
    change: 'released',
    callback: 'agent-released',
  });
  if (conv.ticket_id) {
    await TicketModel.updateOne(
      { _id: conv.ticket_id, tenant_id: tenant._id, status: 'assigned' },
      { $set: { status: 'open', assignee_operator_id: null, assigned_at: null } },
    );
  }
  return conv;
}

/** Resolve: the assignee (or a tenant admin) closes it; its ticket is resolved with it. */
export async function resolveConversation(
  deps: FlowDeps,
  tenant: TenantDoc,
  op: OperatorDoc,
  role: string,
  conversationId: string,
): Promise<ConversationDoc> {
  const now = new Date();
  const conv = await operatorTransition(deps, tenant, op, role, conversationId, {
    filter: role === 'admin' ? { status: { $in: ['bot', 'pending', 'assigned'] } } : { status: 'assigned', assignee_operator_id: op._id },
    set: { status: 'resolved', resolved_at: now },
    conflict: 'Only the operator assigned to this conversation can resolve it (or it is already resolved).',
    change: 'resolved',
    callback: 'agent-resolved',
  });
  if (conv.ticket_id) {
    const t = await TicketModel.findOneAndUpdate(
      { _id: conv.ticket_id, tenant_id: tenant._id, status: { $in: ['open', 'assigned'] } },
      { $set: { status: 'resolved', resolved_at: now } },
      { new: true },
    ).lean<TicketDoc>();
    if (t) await chatCallback(deps, tenant, 'ticket-resolved', conv, { operator_id: op._id });
  }
  return conv;
}

/** The conversation as an operator may see it: its tenant and routing keys (admins: the whole tenant); else 404. */
export async function visibleConversation(deps: FlowDeps, op: OperatorDoc, role: string, conversationId: string): Promise<ConvState> {
  const s = await conversationState(deps, op.tenant_id, conversationId);
  if (!s || !(role === 'admin' || routingAllows(op.routing_keys, s.routing_key)))
    throw new ApiError('NOT_FOUND', 'Conversation not found.');
  return s;
}

/**
 * What an operator shows the visitor (a reply, typing, a read receipt) needs the conversation
 * assigned to it (admins: any that is not resolved); else 409 with `conflict`.
 */
async function writableConversation(
  deps: FlowDeps,
  op: OperatorDoc,
  role: string,
  conversationId: string,
  conflict: string,
): Promise<ConvState> {
  const s = await visibleConversation(deps, op, role, conversationId);
  const may = role === 'admin' ? s.status !== 'resolved' : s.status === 'assigned' && s.assignee_operator_id === op._id;
  if (!may) throw new ApiError('CONFLICT', conflict);
  return s;
}

export async function operatorReply(
  deps: FlowDeps,
  tenant: TenantDoc,
  op: OperatorDoc,
  role: string,
  conversationId: string,
  text: string,
): Promise<MessageView> {
  await writableConversation(deps, op, role, conversationId, 'Take this conversation before replying to it.');
  return (await appendMessage(deps, tenant, conversationId, { type: 'operator', id: op._id }, text)).message;
}

/** An operator's typing indicator or read receipt, shown to the visitor. */
export async function operatorSignal(
  deps: FlowDeps,
  op: OperatorDoc,
  role: string,
  conversationId: string,
  ev: { kind: 'typing'; on: boolean } | { kind: 'read'; seq: number },
): Promise<ConvState> {
  const s = await writableConversation(deps, op, role, conversationId, 'Take this conversation before typing or reading in it.');
  await signal(deps, s, 'operator', ev.kind === 'typing' ? { ...ev, operator_id: op._id } : ev);
  return s;
}

/** Typing and read receipts: not stored, only fanned out. */
export async function signal(
  deps: FlowDeps,
  conv: ConvFacts,
  from: 'visitor' | 'operator',
  ev: { kind: 'typing'; on: boolean; operator_id?: string } | { kind: 'read'; seq: number },
): Promise<void> {
  await publish(deps, { ...busBase(conv), from, ...ev });
}
