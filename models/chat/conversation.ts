/**
 * Conversations and lanes (docs/contract.md §3.2). States: bot → pending (queued for a human) → assigned →
 * resolved; a release returns it to pending; a visitor writing to a resolved conversation reopens it
 * (pending). Sequence numbers are handed out from Redis within leases reserved here
 * (`seq_reserved`), see conversation-state.ts; `last_seq` here is brought up to date at each state
 * change and lease, so it can lag behind the live value (`withLiveSeq`).
 * Every state change is one guarded findOneAndUpdate on the expected state (no read-modify-write).
 */
import { Schema, model, type InferSchemaType } from 'mongoose';
import { baseSchemaOptions } from '../platform/common.js';

export const CONVERSATION_STATUSES = ['bot', 'pending', 'assigned', 'resolved'] as const;
export type ConversationStatus = (typeof CONVERSATION_STATUSES)[number];

const conversationSchema = new Schema(
  {
    _id: { type: String, required: true }, // cnv_…
    tenant_id: { type: String, required: true },
    session_id: { type: String, required: true },
    routing_key: { type: String, default: null },
    status: { type: String, enum: CONVERSATION_STATUSES, required: true },
    assignee_operator_id: { type: String, default: null },
    ticket_id: { type: String, default: null },
    last_seq: { type: Number, required: true, default: 0 },
    /** Every sequence number up to this may have been handed out (conversation-state.ts). */
    seq_reserved: { type: Number, default: 0 },
    queued_at: { type: Date, default: null },
    assigned_at: { type: Date, default: null },
    resolved_at: { type: Date, default: null },
  },
  { ...baseSchemaOptions, collection: 'chat_conversations' },
);
// Serves the operator queue: a tenant's conversations in one state, oldest first.
conversationSchema.index({ tenant_id: 1, status: 1, queued_at: 1 });
// One conversation per session; serves the lookup from a visitor's session.
conversationSchema.index({ tenant_id: 1, session_id: 1 }, { unique: true });

export type ConversationDoc = InferSchemaType<typeof conversationSchema> & { _id: string; created_at: Date; updated_at: Date };
export const ConversationModel = model('Conversation', conversationSchema);

export async function findConversation(tenantId: string, conversationId: string): Promise<ConversationDoc | null> {
  return ConversationModel.findOne({ _id: conversationId, tenant_id: tenantId }).lean<ConversationDoc>();
}

export type ConversationView = {
  id: string;
  session_id: string;
  status: ConversationStatus;
  routing_key: string | null;
  assignee_operator_id: string | null;
  ticket_id: string | null;
  last_seq: number;
  created_at: string;
  queued_at: string | null;
  assigned_at: string | null;
  resolved_at: string | null;
};

export function conversationView(c: ConversationDoc): ConversationView {
  const iso = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : null);
  return {
    id: c._id,
    session_id: c.session_id,
    status: c.status as ConversationStatus,
    routing_key: c.routing_key ?? null,
    assignee_operator_id: c.assignee_operator_id ?? null,
    ticket_id: c.ticket_id ?? null,
    last_seq: c.last_seq,
    created_at: new Date(c.created_at).toISOString(),
    queued_at: iso(c.queued_at),
    assigned_at: iso(c.assigned_at),
    resolved_at: iso(c.resolved_at),
  };
}

/** Whether an operator limited to `keys` may see a conversation with this routing key (null or [] = tenant-wide). */
export function routingAllows(keys: readonly string[] | null | undefined, routingKey: string | null | undefined): boolean {
  if (!keys || keys.length === 0) return true;
  return routingKey != null && keys.includes(routingKey);
}

/** The MongoDB filter version of `routingAllows`. */
export function routingFilter(keys: readonly string[] | null | undefined): Record<string, unknown> {
  return !keys || keys.length === 0 ? {} : { routing_key: { $in: [...keys] } };
}

/** Which of its tenant's conversations an operator may see: its routing keys (an admin: all). The caller adds the tenant. */
export function operatorRouting(op: { routing_keys?: readonly string[] | null }, role: string): Record<string, unknown> {
  return role === 'admin' ? {} : routingFilter(op.routing_keys);
}
