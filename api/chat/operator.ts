/**
 * Operator REST routes (docs/contract.md §3.3), Bearer operator token (minted by the tenant backend through
 * POST /relay/mint/operator-token). An operator sees only its tenant and its routing keys: anything
 * else answers 404. The same actions exist on the operator WebSocket (/api/v1/ws/operator).
 */
import { z } from 'zod';
import { notFound } from '../errors.js';
import { operatorReply, operatorSignal } from '../../models/chat/operator-access.js';
import { releaseConversation, resolveConversation, takeConversation } from '../../models/chat/take-release-resolve.js';
import { withLiveSeq } from '../../models/chat/conversation-state.js';
import { CONVERSATION_STATUSES, conversationView } from '../../models/chat/conversation.js';
import { operatorConversations, operatorVisibleConversation } from '../../models/chat/conversation-data.js';
import { defineRoute, q, type RequestQuery, type ResponseData } from '../route.js';
import { conversationDetail, conversationDetailSchema, conversationSchema, messageSchema } from './views.js';

const AUTH =
  'Bearer operator token (`Authorization: Bearer <operator_token>`); `X-Bloonio-Tenant-Id` optionally names the tenant. 401 for a bad or expired token, 403 when the token does not hold this tenant or the tenant is suspended.';
const cid = z.object({ conversation_id: z.string().startsWith('cnv_') }).strict();

export const operatorQueue = defineRoute({
  method: 'get',
  path: '/operator/fetch/queue',
  summary: 'List conversations visible to the operator (the queue by default)',
  description: `${AUTH}\n\nFiltered by the operator's routing keys (null/[] = the whole tenant). \`status\` defaults to \`pending\` (waiting for a human), oldest first; \`mine=true\` lists the conversations assigned to the caller.`,
  tags: ['Chat: operators'],
  security: 'operator',
  query: z.object({
    status: z.enum(CONVERSATION_STATUSES).default('pending'),
    mine: z.enum(['true', 'false']).default('false'),
    limit: q.int(1, 200, 50),
  }),
  response: z.object({ conversations: z.array(conversationSchema) }),
  errors: [401, 403],
  handler: async (_ctx, { query, deps, principal }) => {
    const { operator, role, tenant } = principal;
    const rows = await withLiveSeq(
      deps,
      await operatorConversations(tenant.id, operator, role, { status: query.status, mine: query.mine === 'true', limit: query.limit }),
    );
    return { message: 'Conversations.', data: { conversations: rows.map(conversationView) } };
  },
});

export const operatorConversation = defineRoute({
  method: 'get',
  path: '/operator/fetch/conversation',
  summary: 'Read a conversation and its messages',
  description: `${AUTH}\n\nMessages with \`seq > after_seq\`, in order. 404 outside the operator's tenant or routing keys.`,
  tags: ['Chat: operators'],
  security: 'operator',
  query: z.object({
    conversation_id: z.string().startsWith('cnv_'),
    after_seq: q.int(0, Number.MAX_SAFE_INTEGER, 0),
    limit: q.int(1, 500, 100),
  }),
  response: conversationDetailSchema,
  errors: [401, 403, 404],
  handler: async (_ctx, { query, deps, principal }) => {
    const { operator, role, tenant } = principal;
    const conv = await operatorVisibleConversation(tenant.id, operator, role, query.conversation_id);
    if (!conv) throw notFound('Conversation');
    return { message: 'Conversation.', data: await conversationDetail(deps, tenant.id, conv, query.after_seq, query.limit) };
  },
});

const action = (verb: 'take' | 'release' | 'resolve', summary: string, description: string, fn: typeof takeConversation) =>
  defineRoute({
    method: 'post',
    path: `/operator/${verb}/conversation`,
    summary,
    description: `${AUTH}\n\n${description}`,
    tags: ['Chat: operators'],
    security: 'operator',
    body: cid,
    response: z.object({ conversation: conversationSchema }),
    errors: [401, 403, 404, 409],
    handler: async (_ctx, { body, deps, principal }) => {
      const { operator, role, tenant } = principal;
      const conv = await fn(deps, tenant.tenant, operator, role, body.conversation_id);
      return { message: `Conversation ${verb === 'take' ? 'taken' : `${verb}d`}.`, data: { conversation: conversationView(conv) } };
    },
  });

export const takeRoute = action(
  'take',
  'Take a pending conversation',
  'Atomic: one guarded update (`status: pending` and the routing keys are part of the filter), so when two operators race, exactly one wins and the other gets 409 CONFLICT. Fires agent-assigned (and ticket-assigned when it has a ticket); the visitor gets `agent_joined`.',
  takeConversation,
);
export const releaseRoute = action(
  'release',
  'Release a conversation back to the queue',
  'Only the assignee. Back to `pending`; fires agent-released; the visitor gets `agent_left`.',
  releaseConversation,
);
export const resolveRoute = action(
  'resolve',
  'Resolve a conversation',
  'The assignee (or a tenant admin operator). Fires agent-resolved and, with a ticket, ticket-resolved. A later visitor message reopens it (pending).',
  resolveConversation,
);

export const operatorSend = defineRoute({
  method: 'post',
  path: '/operator/send/message',
  summary: 'Reply in a conversation assigned to the operator',
  description: `${AUTH}\n\nPlain text (never rendered as HTML), at most CHAT_MESSAGE_MAX_CHARS characters. Stored with the next sequence number, then fanned out. 409 when the conversation is not assigned to the caller.`,
  tags: ['Chat: operators'],
  security: 'operator',
  body: z.object({ conversation_id: z.string().startsWith('cnv_'), text: z.string().trim().min(1).max(4000) }).strict(),
  response: z.object({ message: messageSchema }),
  successStatus: 201,
  errors: [401, 403, 404, 409],
  handler: async (_ctx, { body, deps, principal }) => {
    const { operator, role, tenant } = principal;
    const message = await operatorReply(
      deps,
      tenant.tenant,
      operator,
      role,
      body.conversation_id,
      body.text.slice(0, deps.config.chatMessageMaxChars),
    );
    return { message: 'Message sent.', data: { message } };
  },
});

export const operatorTyping = defineRoute({
  method: 'post',
  path: '/operator/send/typing',
  summary: 'Show or hide the typing indicator to the visitor',
  description: `${AUTH}\n\nNot stored; fanned out to the visitor's sockets. Like replying: the assignee only (admins: any open conversation), else 409.`,
  tags: ['Chat: operators'],
  security: 'operator',
  body: z.object({ conversation_id: z.string().startsWith('cnv_'), on: z.boolean() }).strict(),
  response: z.object({ conversation_id: z.string(), on: z.boolean() }),
  errors: [401, 403, 404, 409],
  handler: async (_ctx, { body, deps, principal }) => {
    const { operator, role } = principal;
    const conv = await operatorSignal(deps, operator, role, body.conversation_id, { kind: 'typing', on: body.on });
    return { message: 'Typing sent.', data: { conversation_id: conv._id, on: body.on } };
  },
});

export const chatOperatorRoutes = [
  operatorQueue,
  operatorConversation,
  takeRoute,
  releaseRoute,
  resolveRoute,
  operatorSend,
  operatorTyping,
];

/** The wire types of the operator's reads (the inbox's), for clients and tests. */
export type OperatorQueueQuery = RequestQuery<typeof operatorQueue>;
export type OperatorQueueResponse = ResponseData<typeof operatorQueue>;
export type OperatorConversationQuery = RequestQuery<typeof operatorConversation>;
