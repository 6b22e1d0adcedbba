/**
 * Where a conversation is started and a message is accepted (docs/contract.md §3.1–3.2), for the widget socket,
 * the backend routes, operators and the bot worker: the message is numbered and queued for MongoDB
 * (with its callback), then fanned out; a visitor's first message starts the conversation (bot lane
 * when a bot is configured and asked for, else the human queue).
 */
import { newId } from '../../platform/ids.js';
import type { FlowDeps } from '../platform/deps.js';
import type { TenantDoc } from '../platform/tenant.js';
import { busBase, publish } from './bus.js';
import { chatCallback, chatCallbackJob } from './chat-callbacks.js';
import { conversationMachine } from './conversation-machine.js';
import { changeConversation, nextSeq, type ConvState } from './conversation-state.js';
import { ConversationModel, conversationView, type ConversationDoc } from './conversation.js';
import type { MessageView, SenderType } from './message.js';
import { abandonSeq, rememberMessage } from './recent-messages.js';
import { VisitorSessionModel, type VisitorSessionDoc } from './visitor-session.js';
import { settleClaim } from '../../platform/claims.js';
import { DomainError } from '../../platform/errors.js';

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

/** How long a message's store job is tried again through a Redis outage before the sender hears "not stored". */
const ENQUEUE_SETTLE_MS = 15_000;

/**
 * Numbers a message and makes it live; MongoDB is written behind, in batches, by the chat-history
 * worker. Three Redis round trips and no MongoDB: the number and the routing state (conversation-
 * state.ts), the store job (which carries the message, its callback and whether the bot answers it),
 * then the recent set (replay) and the fan-out together. The job is queued before the message is
 * visible anywhere, so a message a socket or a caller saw is in the queue (AOF, noeviction): it
 * reaches MongoDB even if this process dies right after. A process dying between the number and the
 * job leaves a number never used, which readers pass over (api/chat/ws/sequencer.ts: at once when the
 * job could not be queued, else once its in-flight mark is old). Once the job is queued nothing here
 * throws: the message is accepted.
 */
export async function appendMessage(
  deps: FlowDeps,
  tenant: TenantDoc,
  conversationId: string,
  sender: { type: SenderType; id: string | null },
  text: string,
): Promise<{ message: MessageView; state: ConvState }> {
  const state = await nextSeq(deps, tenant._id, conversationId);
  if (!state) throw new DomainError('NOT_FOUND', 'Conversation not found.');
  const now = new Date();
  const message: MessageView = {
    id: newId('msg'),
    conversation_id: conversationId,
    seq: state.last_seq,
    sender_type: sender.type,
    sender_id: sender.id,
    text,
    created_at: now.toISOString(),
  };
  // A tenant without a receiver gets no per-message event record (the message itself is the record).
  const callback = tenant.callback_url_base
    ? chatCallbackJob(tenant, 'message-received', state, { message }, { key: message.id, at: now })
    : null;
  const job = {
    tenantId: tenant._id,
    message,
    callback: callback?.name === 'webhook.deliver' ? callback.payload : null,
    botTurn: sender.type === 'visitor' && state.status === 'bot',
  };
  try {
    // Tried again through a Redis restart: an add Redis ran but never answered (it died, or the
    // connection dropped) has queued the message, and telling the sender "not stored" would make its
    // resend a second copy. The job id is the message's, so a second add never queues it twice.
    await settleClaim(() => deps.producer.enqueue('chat.message.store', job), ENQUEUE_SETTLE_MS);
  } catch (err) {
    // The number will never be used: say so, so readers pass over it now rather than wait for it.
    await abandonSeq(deps, tenant._id, conversationId, message.seq).catch(() => undefined);
    throw err;
  }
  // From here the message is accepted: it is queued (AOF) and will reach MongoDB. Failing now would
  // tell the sender it was not, and a resend would store it twice. A missed recent-set entry is put
  // back by the store worker; a missed fan-out is found by sockets through the gap it leaves.
  const live = await Promise.allSettled([
    rememberMessage(deps, tenant._id, message),
    publish(deps, { ...busBase(state), kind: 'message', message }),
  ]);
  for (const r of live)
    if (r.status === 'rejected')
      deps.logger.warn(
        { conversation_id: conversationId, seq: message.seq, err: String(r.reason) },
        'chat message queued but not yet live',
      );
  return { message, state };
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
  if (conversationMachine.can('reopen', state.status, 'visitor')) {
    const reopened = await changeConversation(
      deps,
      tenant._id,
      conversationId,
      { transitions: ['reopen'], by: { kind: 'visitor' } },
      { assignee_operator_id: null, queued_at: new Date(), resolved_at: null },
    );
    if (reopened)
      await publish(deps, { ...busBase(reopened), kind: 'conversation', change: 'reopened', conversation: conversationView(reopened) });
  }
  return message;
}
