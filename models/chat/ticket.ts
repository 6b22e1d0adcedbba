/**
 * Tickets (docs/contract.md §3.4): created when a conversation escalates, assigned when an operator takes the
 * conversation, resolved with it. Guarded state changes, like conversations.
 */
import { Schema, model, type InferSchemaType } from 'mongoose';
import { baseSchemaOptions } from '../platform/common.js';

const ticketSchema = new Schema(
  {
    _id: { type: String, required: true }, // tkt_…
    tenant_id: { type: String, required: true },
    conversation_id: { type: String, required: true },
    routing_key: { type: String, default: null },
    status: { type: String, enum: ['open', 'assigned', 'resolved'], required: true, default: 'open' },
    reason: { type: String, default: null },
    assignee_operator_id: { type: String, default: null },
    assigned_at: { type: Date, default: null },
    resolved_at: { type: Date, default: null },
  },
  { ...baseSchemaOptions, collection: 'chat_tickets' },
);
// Serves a conversation's tickets (the open one on take/resolve).
ticketSchema.index({ tenant_id: 1, conversation_id: 1 });

export type TicketDoc = InferSchemaType<typeof ticketSchema> & { _id: string; created_at: Date; updated_at: Date };
export const TicketModel = model('Ticket', ticketSchema);

export type TicketView = {
  id: string;
  conversation_id: string;
  routing_key: string | null;
  status: string;
  reason: string | null;
  assignee_operator_id: string | null;
  created_at: string;
  assigned_at: string | null;
  resolved_at: string | null;
};

export function ticketView(t: TicketDoc): TicketView {
  const iso = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : null);
  return {
    id: t._id,
    conversation_id: t.conversation_id,
    routing_key: t.routing_key ?? null,
    status: t.status,
    reason: t.reason ?? null,
    assignee_operator_id: t.assignee_operator_id ?? null,
    created_at: new Date(t.created_at).toISOString(),
    assigned_at: iso(t.assigned_at),
    resolved_at: iso(t.resolved_at),
  };
}

export async function findTicket(tenantId: string, ticketId: string): Promise<TicketDoc | null> {
  return TicketModel.findOne({ _id: ticketId, tenant_id: tenantId }).lean<TicketDoc>();
}
