/** Response shapes shared by the chat routes (they feed the OpenAPI document). */
import { z } from 'zod';
import { CONVERSATION_STATUSES, conversationView, type ConversationDoc } from '../../models/chat/conversation.js';
import { oneWithLiveSeq } from '../../models/chat/conversation-state.js';
import type { LockDeps } from '../../models/chat/conversation-lock.js';
import { SENDER_TYPES } from '../../models/chat/message.js';
import { messagesAfterSeq } from '../../models/chat/recent-messages.js';
import { ticketOfTenant } from '../../models/chat/conversation-data.js';
import { ticketView } from '../../models/chat/ticket.js';
import type { TenantId } from '../../models/platform/tenant-id.js';

export const conversationSchema = z.object({
  id: z.string(),
  session_id: z.string(),
  status: z.enum(CONVERSATION_STATUSES),
  routing_key: z.string().nullable(),
  assignee_operator_id: z.string().nullable(),
  ticket_id: z.string().nullable(),
  last_seq: z.number().describe('Sequence number of the latest message.'),
  created_at: z.string(),
  queued_at: z.string().nullable(),
  assigned_at: z.string().nullable(),
  resolved_at: z.string().nullable(),
});

export const messageSchema = z.object({
  id: z.string(),
  conversation_id: z.string(),
  seq: z.number(),
  sender_type: z.enum(SENDER_TYPES),
  sender_id: z.string().nullable(),
  text: z.string().describe('Plain text; never render it as HTML.'),
  created_at: z.string(),
});

export const ticketSchema = z.object({
  id: z.string(),
  conversation_id: z.string(),
  routing_key: z.string().nullable(),
  status: z.string(),
  reason: z.string().nullable(),
  assignee_operator_id: z.string().nullable(),
  created_at: z.string(),
  assigned_at: z.string().nullable(),
  resolved_at: z.string().nullable(),
});

export const conversationDetailSchema = z.object({
  conversation: conversationSchema,
  ticket: ticketSchema.nullable(),
  messages: z.array(messageSchema),
});

/** The wire shapes of a conversation, a message, a ticket (REST `data` and socket frames alike). */
export type WireConversation = z.infer<typeof conversationSchema>;
export type WireMessage = z.infer<typeof messageSchema>;
export type WireTicket = z.infer<typeof ticketSchema>;
export type ConversationDetail = z.infer<typeof conversationDetailSchema>;

export async function conversationDetail(
  deps: LockDeps,
  tenant: TenantId,
  stored: ConversationDoc,
  afterSeq: number,
  limit: number,
): Promise<ConversationDetail> {
  const conv = await oneWithLiveSeq(deps, stored);
  const ticket = conv.ticket_id ? await ticketOfTenant(tenant, conv.ticket_id) : null;
  const messages = await messagesAfterSeq(deps, tenant, conv._id, afterSeq, limit);
  return { conversation: conversationView(conv), ticket: ticket ? ticketView(ticket) : null, messages };
}
