/**
 * Bot lane → human lane (docs/contract.md §3.2, §3.4): the conversation joins the queue and a ticket opens.
 */
import { newId } from '../../platform/ids.js';
import type { FlowDeps } from '../platform/deps.js';
import type { TenantDoc } from '../platform/tenant.js';
import { busBase, publish } from './bus.js';
import { chatCallback } from './chat-callbacks.js';
import { conversationGuard, type ConversationWho } from './conversation-machine.js';
import { changeConversation } from './conversation-state.js';
import { ConversationModel, conversationView, type ConversationDoc } from './conversation.js';
import { TicketModel } from './ticket.js';

/**
 * Who escalates, by the reason given: the relay when no bot is configured or it could not be reached
 * (workers/chat/bot-turn.ts), the bot when it answered "escalate", else the tenant's backend
 * (api/chat/conversations.ts, whose reason is its own).
 */
export function escalatedBy(reason: string): ConversationWho {
  if (reason === 'no_bot_configured' || reason === 'bot_unavailable') return { kind: 'system' };
  return reason === 'bot_escalated' ? { kind: 'bot' } : { kind: 'backend' };
}

/**
 * Bot → human lane (the machine's `escalate`): queue it (pending), open a ticket. Only a conversation
 * still in the bot lane escalates. The ticket is written before the conversation names it, so whoever
 * reads a pending conversation finds its ticket; when the conversation has left the bot lane
 * meanwhile, the unnamed ticket is removed (and one a crash leaves behind is named by nothing, so
 * nothing reaches it).
 */
export async function escalate(deps: FlowDeps, tenant: TenantDoc, conversationId: string, reason: string): Promise<ConversationDoc | null> {
  const ticketId = newId('tkt');
  const by = escalatedBy(reason);
  const guard = conversationGuard(['escalate'], by);
  if (!guard) return null;
  const current = await ConversationModel.findOne({ _id: conversationId, tenant_id: tenant._id, ...guard.filter }).lean<ConversationDoc>();
  if (!current) return null;
  await TicketModel.create({
    _id: ticketId,
    tenant_id: tenant._id,
    conversation_id: current._id,
    routing_key: current.routing_key ?? null,
    status: 'open',
    reason,
  });
  const conv = await changeConversation(
    deps,
    tenant._id,
    conversationId,
    { transitions: ['escalate'], by },
    { queued_at: new Date(), ticket_id: ticketId },
  );
  if (!conv) {
    await TicketModel.deleteOne({ _id: ticketId, tenant_id: tenant._id });
    return null;
  }
  await publish(deps, { ...busBase(conv), kind: 'conversation', change: 'escalated', conversation: conversationView(conv) });
  await chatCallback(deps, tenant, 'escalation-triggered', conv, { reason });
  await chatCallback(deps, tenant, 'ticket-created', conv, { reason });
  return conv;
}
