/**
 * Conversations and tickets as the API reads them: every function takes the proven tenant first and
 * puts it in the filter (models/platform/tenant-id.ts), so another tenant's conversation or ticket
 * answers as a missing one. An operator's reads add its routing-key scope on top (admins: none;
 * conversation.ts operatorRouting, the rule take-release-resolve.ts's moves use too).
 */
import type { TenantId } from '../platform/tenant-id.js';
import { ConversationModel, operatorRouting, type ConversationDoc, type ConversationStatus } from './conversation.js';
import type { OperatorIdentity } from './operator.js';
import { TicketModel, type TicketDoc } from './ticket.js';

/** Which of the tenant's conversations an operator may see: the proven tenant, then its routing keys. */
function operatorScope(tenant: TenantId, op: OperatorIdentity, role: string): Record<string, unknown> {
  return { tenant_id: tenant, ...operatorRouting(op, role) };
}

export function conversationOfTenant(tenant: TenantId, conversationId: string): Promise<ConversationDoc | null> {
  return ConversationModel.findOne({ _id: conversationId, tenant_id: tenant }).lean<ConversationDoc>();
}

export function ticketOfTenant(tenant: TenantId, ticketId: string): Promise<TicketDoc | null> {
  return TicketModel.findOne({ _id: ticketId, tenant_id: tenant }).lean<TicketDoc>();
}

/** An operator's view of a tenant's conversations in one status (only its own with `mine`), oldest queued first. */
export function operatorConversations(
  tenant: TenantId,
  op: OperatorIdentity,
  role: string,
  q: { status: ConversationStatus; mine: boolean; limit: number },
): Promise<ConversationDoc[]> {
  const filter = {
    ...operatorScope(tenant, op, role),
    status: q.status,
    ...(q.mine ? { assignee_operator_id: op._id } : {}),
  };
  return ConversationModel.find(filter).sort({ queued_at: 1, _id: 1 }).limit(q.limit).lean<ConversationDoc[]>();
}

/** One conversation, when it is within the operator's tenant and routing keys. */
export function operatorVisibleConversation(
  tenant: TenantId,
  op: OperatorIdentity,
  role: string,
  conversationId: string,
): Promise<ConversationDoc | null> {
  return ConversationModel.findOne({ _id: conversationId, ...operatorScope(tenant, op, role) }).lean<ConversationDoc>();
}
