/**
 * `chat.message.store`: a message the API numbered and fanned out, written into MongoDB — the
 * messages of every job in flight share one unordered insertMany (group commit) — then put into the
 * recent set again (in case the API's write of it failed), and its message-received callback and the
 * bot's turn handed on. A retried job finds its message already there (same id) and only hands on
 * again; the follow-up jobs have fixed ids, so nothing is sent twice.
 *
 * A number already taken by another message means Redis lost the conversation's state (it is the
 * source of numbers) and numbering resumed below a message not yet stored: the message is numbered
 * again and fanned out under its new number, never dropped.
 */
import type { Job } from 'bullmq';
import { BatchInserter, DuplicateKeyError } from '../../models/platform/batch-insert.js';
import { appendMessage } from '../../models/chat/conversation-messages.js';
import { dropConversationState } from '../../models/chat/conversation-state.js';
import { MessageModel } from '../../models/chat/message.js';
import { rememberMessage } from '../../models/chat/recent-messages.js';
import type { JobOutcome, JobPayload } from '../../queues/catalogue.js';
import type { ChatWorkerDeps } from './bot-turn.js';

type StoreOutcome = JobOutcome<'chat.message.store'>;

export function createStoreMessageProcessor(deps: ChatWorkerDeps) {
  const inserts = new BatchInserter(() => MessageModel.collection);
  const processor = async (_job: Job, _token: string | undefined, p: JobPayload<'chat.message.store'>): Promise<StoreOutcome> => {
    const m = p.message;
    const at = new Date(m.created_at);
    try {
      await inserts.insert({
        _id: m.id,
        tenant_id: p.tenantId,
        conversation_id: m.conversation_id,
        seq: m.seq,
        sender_type: m.sender_type,
        sender_id: m.sender_id,
        text: m.text,
        created_at: at,
        updated_at: at,
      });
    } catch (err) {
      if (!(err instanceof DuplicateKeyError)) throw err;
      const mine = await MessageModel.exists({ _id: m.id });
      if (!mine) return renumber(deps, p);
      // Our own earlier attempt stored it: hand on again (no-ops if that attempt did).
    }
    // The API puts the message into the recent set right after queueing this job, but never fails
    // the sender once the job is queued; putting it again (same score and member: a no-op when it is
    // there) repairs a set that missed it, so replays from Redis have no hole where a message exists.
    await rememberMessage(deps, p.tenantId, m);
    if (p.callback) await deps.producer.enqueue('webhook.deliver', p.callback);
    if (p.botTurn)
      await deps.producer.enqueue('chat.bot-turn', { tenantId: p.tenantId, conversationId: m.conversation_id, messageId: m.id });
    return 'stored';
  };
  return { processor, flush: () => inserts.flush() };
}

async function renumber(deps: ChatWorkerDeps, p: JobPayload<'chat.message.store'>): Promise<StoreOutcome> {
  const m = p.message;
  deps.logger.warn({ conversation_id: m.conversation_id, seq: m.seq }, 'chat sequence number already used; numbering the message again');
  const entry = await deps.tenants.load(p.tenantId);
  if (!entry) return 'tenant-gone';
  await dropConversationState(deps, p.tenantId, m.conversation_id);
  await appendMessage(deps, entry.tenant, m.conversation_id, { type: m.sender_type, id: m.sender_id }, m.text);
  return 'renumbered';
}
