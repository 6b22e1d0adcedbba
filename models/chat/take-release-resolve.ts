/**
 * Where a conversation is taken, released and resolved by an operator (docs/contract.md §3.3–3.4), over REST and
 * the operator socket alike: one guarded state change under the conversation's lock, then the
 * ticket's follow-up, then the bus event and the tenant's callbacks.
 */
import { DomainError } from '../../platform/errors.js';
import type { FlowDeps } from '../platform/deps.js';
import type { TenantDoc } from '../platform/tenant.js';
import { busBase, publish } from './bus.js';
import { chatCallback } from './chat-callbacks.js';
import type { ConversationTransition } from './conversation-machine.js';
import { changeConversation } from './conversation-state.js';
import { ConversationModel, conversationView, operatorRouting, type ConversationDoc } from './conversation.js';
import type { OperatorIdentity } from './operator.js';
import { TicketModel, type TicketDoc } from './ticket.js';

const opRef = (op: OperatorIdentity) => ({ id: op._id, display_name: op.display_name });

/** Which conversations an operator may see: its tenant and its routing keys (admins: the whole tenant). */
export function operatorScope(op: OperatorIdentity, role: string): Record<string, unknown> {
  return { tenant_id: op.tenant_id, ...operatorRouting(op, role) };
}

async function notVisibleOrConflict(op: OperatorIdentity, role: string, conversationId: string, conflict: string): Promise<never> {
  const visible = await ConversationModel.exists({ _id: conversationId, ...operatorScope(op, role) });
  if (!visible) throw new DomainError('NOT_FOUND', 'Conversation not found.');
  throw new DomainError('CONFLICT', conflict);
}

type Transition = {
  /** The table's transitions this action is (conversation-machine.ts): who may make it from which state. */
  names: readonly ConversationTransition[];
  /** The fields it sets besides the status (the transition's `to`). */
  set: Record<string, unknown>;
  /** The 409 message when the conversation is visible but not in a state this operator can change. */
  conflict: string;
  change: 'assigned' | 'released' | 'resolved';
  callback: 'agent-assigned' | 'agent-released' | 'agent-resolved';
  /** The conversation's ticket follows it: from these states, with this update (and its callback). */
  ticket: { from: unknown; set: Record<string, unknown>; callback?: 'ticket-assigned' | 'ticket-resolved' };
};

/**
 * One operator-driven state change: a guarded update under the conversation's Redis lock (guarded
 * updates alone are not atomic on FerretDB), 404/409 when it does not apply, then the ticket's
 * follow-up, then the bus event and the tenant callbacks. The ticket is written before the event, so
 * an inbox that reads the ticket again on the event sees its new state. Take, release and resolve
 * differ only in their Transition.
 */
async function operatorTransition(
  deps: FlowDeps,
  tenant: TenantDoc,
  op: OperatorIdentity,
  role: string,
  conversationId: string,
  t: Transition,
): Promise<ConversationDoc> {
  const conv = await changeConversation(
    deps,
    tenant._id,
    conversationId,
    { transitions: t.names, by: { kind: 'operator', operatorId: op._id, admin: role === 'admin' }, scope: operatorScope(op, role) },
    t.set,
  );
  if (!conv) return notVisibleOrConflict(op, role, conversationId, t.conflict);
  const ticket = conv.ticket_id
    ? await TicketModel.findOneAndUpdate(
        { _id: conv.ticket_id, tenant_id: tenant._id, status: t.ticket.from },
        { $set: t.ticket.set },
        { new: true },
      ).lean<TicketDoc>()
    : null;
  await publish(deps, {
    ...busBase(conv),
    kind: 'conversation',
    change: t.change,
    conversation: conversationView(conv),
    operator: opRef(op),
  });
  await chatCallback(deps, tenant, t.callback, conv, { operator_id: op._id });
  if (ticket && t.ticket.callback) await chatCallback(deps, tenant, t.ticket.callback, conv, { operator_id: op._id });
  return conv;
}

/** Take: atomic; of two operators racing for one pending conversation, exactly one wins (the other gets 409). */
export async function takeConversation(
  deps: FlowDeps,
  tenant: TenantDoc,
  op: OperatorIdentity,
  role: string,
  conversationId: string,
): Promise<ConversationDoc> {
  const now = new Date();
  return operatorTransition(deps, tenant, op, role, conversationId, {
    names: ['take'],
    set: { assignee_operator_id: op._id, assigned_at: now },
    conflict: 'This conversation is not waiting in the queue (already taken, in the bot lane or resolved).',
    change: 'assigned',
    callback: 'agent-assigned',
    ticket: { from: 'open', set: { status: 'assigned', assignee_operator_id: op._id, assigned_at: now }, callback: 'ticket-assigned' },
  });
}

/** Release: back to the queue (pending); only the assignee can release. */
export async function releaseConversation(
  deps: FlowDeps,
  tenant: TenantDoc,
  op: OperatorIdentity,
  role: string,
  conversationId: string,
): Promise<ConversationDoc> {
  return operatorTransition(deps, tenant, op, role, conversationId, {
    names: ['release'],
    set: { assignee_operator_id: null, assigned_at: null, queued_at: new Date() },
    conflict: 'Only the operator assigned to this conversation can release it.',
    change: 'released',
    callback: 'agent-released',
    ticket: { from: 'assigned', set: { status: 'open', assignee_operator_id: null, assigned_at: null } },
  });
}

/** Resolve: the assignee (or a tenant admin) closes it; its ticket is resolved with it. */
export async function resolveConversation(
  deps: FlowDeps,
  tenant: TenantDoc,
  op: OperatorIdentity,
  role: string,
  conversationId: string,
): Promise<ConversationDoc> {
  const now = new Date();
  return operatorTransition(deps, tenant, op, role, conversationId, {
    // An admin resolves from any open state (`close` when nobody holds it); anyone else only its own.
    names: ['resolve', 'close'],
    set: { resolved_at: now },
    conflict: 'Only the operator assigned to this conversation can resolve it (or it is already resolved).',
    change: 'resolved',
    callback: 'agent-resolved',
    ticket: { from: { $in: ['open', 'assigned'] }, set: { status: 'resolved', resolved_at: now }, callback: 'ticket-resolved' },
  });
}
