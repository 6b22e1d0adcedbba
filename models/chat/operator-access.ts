/**
 * What an operator may see and write (docs/contract.md §3.3): a conversation of its tenant and routing keys
 * (admins: the whole tenant), 404 otherwise; replies, typing and read receipts need it assigned to
 * the operator (admins: any conversation not resolved), 409 otherwise.
 */
import { DomainError } from '../../platform/errors.js';
import type { FlowDeps } from '../platform/deps.js';
import type { TenantDoc } from '../platform/tenant.js';
import { busBase, publish } from './bus.js';
import { appendMessage } from './conversation-messages.js';
import { conversationState, type ConvFacts, type ConvState } from './conversation-state.js';
import { routingAllows } from './conversation.js';
import type { MessageView } from './message.js';
import type { OperatorIdentity } from './operator.js';

/** The conversation as an operator may see it: its tenant and routing keys (admins: the whole tenant); else 404. */
export async function visibleConversation(deps: FlowDeps, op: OperatorIdentity, role: string, conversationId: string): Promise<ConvState> {
  const s = await conversationState(deps, op.tenant_id, conversationId);
  if (!s || !(role === 'admin' || routingAllows(op.routing_keys, s.routing_key)))
    throw new DomainError('NOT_FOUND', 'Conversation not found.');
  return s;
}

/**
 * What an operator shows the visitor (a reply, typing, a read receipt) needs the conversation
 * assigned to it (admins: any that is not resolved); else 409 with `conflict`.
 */
async function writableConversation(
  deps: FlowDeps,
  op: OperatorIdentity,
  role: string,
  conversationId: string,
  conflict: string,
): Promise<ConvState> {
  const s = await visibleConversation(deps, op, role, conversationId);
  const may = role === 'admin' ? s.status !== 'resolved' : s.status === 'assigned' && s.assignee_operator_id === op._id;
  if (!may) throw new DomainError('CONFLICT', conflict);
  return s;
}

export async function operatorReply(
  deps: FlowDeps,
  tenant: TenantDoc,
  op: OperatorIdentity,
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
  op: OperatorIdentity,
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
