/**
 * Conversations from the tenant's backend (HMAC #1, docs/contract.md §3.2): create one, send a message as the
 * visitor, the bot or the system, escalate to humans, read a conversation and its messages, read a
 * ticket. Scoped to the calling tenant; another tenant's ids answer 404.
 */
import { z } from 'zod';
import { appendMessage, ensureConversation, visitorMessage } from '../../models/chat/conversation-messages.js';
import { oneWithLiveSeq } from '../../models/chat/conversation-state.js';
import { conversationView, type ConversationDoc } from '../../models/chat/conversation.js';
import { conversationOfTenant, ticketOfTenant } from '../../models/chat/conversation-data.js';
import { escalate } from '../../models/chat/escalation.js';
import { ticketView } from '../../models/chat/ticket.js';
import type { VisitorSessionDoc } from '../../models/chat/visitor-session.js';
import { sessionOfTenant } from '../../models/chat/visitor-session-data.js';
import type { TenantId } from '../../models/platform/tenant-id.js';
import { ApiError, notFound } from '../errors.js';
import { defineRoute, q, type RequestBody, type RequestQuery, type ResponseData } from '../route.js';
import { conversationDetail, conversationDetailSchema } from './views.js';

async function sessionOf(tenant: TenantId, sessionId: string): Promise<VisitorSessionDoc> {
  const s = await sessionOfTenant(tenant, sessionId);
  if (!s) throw notFound('Visitor session');
  return s;
}

async function conversationOf(tenant: TenantId, conversationId: string): Promise<ConversationDoc> {
  const c = await conversationOfTenant(tenant, conversationId);
  if (!c) throw notFound('Conversation');
  return c;
}

export const createConversation = defineRoute({
  method: 'post',
  path: '/relay/create/conversation',
  summary: 'Open the conversation of a visitor session',
  description:
    'A session has one conversation; this opens it (201, bot lane when the session asked for it and a bot is configured, else the human queue) or returns the existing one (200). Fires conversation-started once.',
  tags: ['Chat: conversations'],
  security: 'hmac',
  body: z.object({ session_id: z.string().startsWith('vs_') }).strict(),
  response: z.object({ conversation: conversationDetailSchema.shape.conversation, created: z.boolean() }),
  successStatus: 201,
  otherSuccessStatuses: [200],
  errors: [404],
  handler: async (_ctx, { body, deps, principal }) => {
    const tenant = principal.tenant.tenant;
    const session = await sessionOf(principal.tenant.id, body.session_id);
    const created = !session.conversation_id;
    const conv = await oneWithLiveSeq(deps, await ensureConversation(deps, tenant, session));
    return {
      status: created ? 201 : 200,
      message: created ? 'Conversation created.' : 'Conversation already open.',
      data: { conversation: conversationView(conv), created },
    };
  },
});

export const sendChatMessage = defineRoute({
  method: 'post',
  path: '/relay/send/chat-message',
  summary: 'Send a message as the visitor, the bot or the system',
  description:
    'Plain text only (never rendered as HTML), at most CHAT_MESSAGE_MAX_CHARS (4,000) characters. The message is stored with the next sequence number of the conversation, then fanned out to the sockets, then called back (message-received). A visitor message in the bot lane goes to the bot.',
  tags: ['Chat: conversations'],
  security: 'hmac',
  body: z
    .object({
      conversation_id: z.string().startsWith('cnv_'),
      sender_type: z.enum(['visitor', 'bot', 'system']),
      text: z.string().trim().min(1).max(4000),
    })
    .strict(),
  response: z.object({ message: conversationDetailSchema.shape.messages.element }),
  successStatus: 201,
  errors: [404],
  handler: async (_ctx, { body, deps, principal }) => {
    const tenant = principal.tenant.tenant;
    if (body.text.length > deps.config.chatMessageMaxChars)
      throw new ApiError('VALIDATION_FAILED', 'The request body failed validation.', [
        `text: at most ${deps.config.chatMessageMaxChars} characters`,
      ]);
    const conv = await conversationOf(principal.tenant.id, body.conversation_id);
    const message =
      body.sender_type === 'visitor'
        ? await visitorMessage(deps, tenant, await sessionOf(principal.tenant.id, conv.session_id), body.text)
        : (await appendMessage(deps, tenant, conv._id, { type: body.sender_type, id: null }, body.text)).message;
    return { message: 'Message sent.', data: { message } };
  },
});

export const escalateConversation = defineRoute({
  method: 'post',
  path: '/relay/escalate/conversation',
  summary: 'Escalate a bot-lane conversation to a human',
  description:
    'Moves a conversation from the bot lane to the human queue (pending) and opens a ticket: escalation-triggered and ticket-created callbacks. 409 when it is not in the bot lane.',
  tags: ['Chat: conversations'],
  security: 'hmac',
  body: z.object({ conversation_id: z.string().startsWith('cnv_'), reason: z.string().min(1).max(200).default('backend') }).strict(),
  response: conversationDetailSchema.pick({ conversation: true }),
  errors: [404, 409],
  handler: async (_ctx, { body, deps, principal }) => {
    const tenant = principal.tenant.tenant;
    await conversationOf(principal.tenant.id, body.conversation_id);
    const conv = await escalate(deps, tenant, body.conversation_id, body.reason);
    if (!conv) throw new ApiError('CONFLICT', 'Only a conversation in the bot lane can be escalated.');
    return { message: 'Conversation escalated.', data: { conversation: conversationView(conv) } };
  },
});

export const fetchConversation = defineRoute({
  method: 'get',
  path: '/relay/fetch/conversation',
  summary: 'Read a conversation, its ticket and its messages',
  description: "Messages with `seq > after_seq`, in order, at most `limit`. 404 for another tenant's conversation.",
  tags: ['Chat: conversations'],
  security: 'hmac',
  query: z.object({
    conversation_id: z.string().startsWith('cnv_'),
    after_seq: q.int(0, Number.MAX_SAFE_INTEGER, 0),
    limit: q.int(1, 500, 100),
  }),
  response: conversationDetailSchema,
  errors: [404],
  handler: async (_ctx, { query, deps, principal }) => {
    const conv = await conversationOf(principal.tenant.id, query.conversation_id);
    return { message: 'Conversation.', data: await conversationDetail(deps, principal.tenant.id, conv, query.after_seq, query.limit) };
  },
});

export const fetchTicket = defineRoute({
  method: 'get',
  path: '/relay/fetch/ticket',
  summary: 'Read a ticket',
  tags: ['Chat: conversations'],
  security: 'hmac',
  query: z.object({ ticket_id: z.string().startsWith('tkt_') }),
  response: z.object({ ticket: conversationDetailSchema.shape.ticket.unwrap() }),
  errors: [404],
  handler: async (_ctx, { query, principal }) => {
    const t = await ticketOfTenant(principal.tenant.id, query.ticket_id);
    if (!t) throw notFound('Ticket');
    return { message: 'Ticket.', data: { ticket: ticketView(t) } };
  },
});

/** The wire types of these routes, for clients and tests. */
export type CreateConversationRequest = RequestBody<typeof createConversation>;
export type CreateConversationResponse = ResponseData<typeof createConversation>;
export type SendChatMessageRequest = RequestBody<typeof sendChatMessage>;
export type SendChatMessageResponse = ResponseData<typeof sendChatMessage>;
export type EscalateConversationRequest = RequestBody<typeof escalateConversation>;
export type FetchConversationQuery = RequestQuery<typeof fetchConversation>;
export type FetchTicketResponse = ResponseData<typeof fetchTicket>;
