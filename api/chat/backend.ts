/**
 * Chat routes for the tenant's backend (HMAC #1, SPEC §3.1–3.3): operators and their tokens,
 * backend-minted visitor tokens, conversations and messages. Everything is scoped to the calling
 * tenant; another tenant's ids answer 404.
 */
import { randomBytes, scrypt } from 'node:crypto';
import { promisify } from 'node:util';
import { z } from 'zod';
import { ApiError, notFound } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import { appendMessage, ensureConversation, escalate, visitorMessage } from '../../models/chat/chat-flow.js';
import { oneWithLiveSeq } from '../../models/chat/conversation-state.js';
import { ConversationModel, conversationView, type ConversationDoc } from '../../models/chat/conversation.js';
import { OPERATOR_ROLES, OperatorModel, type OperatorDoc } from '../../models/chat/operator.js';
import { upsertRelayUserLink } from '../../models/platform/relay-user-link.js';
import type { TenantDoc } from '../../models/platform/tenant.js';
import { TicketModel, ticketView, type TicketDoc } from '../../models/chat/ticket.js';
import { SESSION_LIFETIME_MS, VisitorSessionModel, type VisitorSessionDoc } from '../../models/chat/visitor-session.js';
import type { AppContext } from '../context.js';
import { mintToken, originAllowed, widgetKeyHash } from '../principals/chat-tokens.js';
import { defineRoute, q } from '../route.js';
import { appOrIWebOrigin } from '../schemas.js';
import { conversationDetail, conversationDetailSchema } from './views.js';

const tenantOf = (ctx: AppContext): TenantDoc => {
  const t = ctx.state.tenant?.tenant;
  if (!t) throw new Error('HMAC route reached without the HMAC gate');
  return t;
};

const operatorView = z.object({
  operator_id: z.string(),
  email: z.string(),
  display_name: z.string(),
  routing_keys: z.array(z.string()),
  role: z.enum(OPERATOR_ROLES),
  relay_user_linked_id: z.string(),
  created: z.boolean(),
});

const toOperatorView = (o: OperatorDoc, created: boolean): z.infer<typeof operatorView> => ({
  operator_id: o._id,
  email: o.email,
  display_name: o.display_name,
  routing_keys: o.routing_keys ?? [],
  role: o.role as (typeof OPERATOR_ROLES)[number],
  relay_user_linked_id: o.relay_user_linked_id,
  created,
});

const scryptAsync = promisify(scrypt);

export const provisionOperator = defineRoute({
  method: 'post',
  path: '/relay/provision/operator',
  summary: 'Create or reuse an operator (idempotent on email + tenant)',
  description:
    '201 with `created: true` the first time, 200 with `created: false` afterwards; each call refreshes `display_name`, `routing_keys` and `role`. `routing_keys` restrict the operator to those queues (null or [] = the whole tenant). The password is random, stored only as a scrypt hash and never returned: operators sign in with tokens minted by `POST /relay/mint/operator-token`. Links the operator to a relay_user (`relay_user_linked_id`, keyed by `backend_user_id`, defaulting to the email).',
  tags: ['Chat: operators'],
  security: 'hmac',
  body: z
    .object({
      email: z
        .email()
        .max(254)
        .transform((e) => e.toLowerCase()),
      display_name: z.string().trim().min(1).max(120),
      routing_keys: z.array(z.string().min(1).max(100)).max(200).nullable().default(null),
      role: z.enum(OPERATOR_ROLES).default('agent'),
      backend_user_id: z.string().min(1).max(200).optional(),
    })
    .strict(),
  response: operatorView,
  successStatus: 201,
  otherSuccessStatuses: [200],
  handler: async (ctx, { body }) => {
    const tenant = tenantOf(ctx);
    const link = await upsertRelayUserLink(tenant._id, body.backend_user_id ?? body.email, 'operator', body.display_name);
    const set = { display_name: body.display_name, routing_keys: body.routing_keys ?? [], role: body.role };
    const filter = { tenant_id: tenant._id, email: body.email };
    const existing = await OperatorModel.findOneAndUpdate(filter, { $set: set }, { new: true }).lean<OperatorDoc>();
    if (existing)
      return { status: 200, message: 'Operator already provisioned; settings refreshed.', data: toOperatorView(existing, false) };
    const salt = randomBytes(16);
    // Async: scrypt runs on the thread pool; scryptSync held the event loop (every socket) ~50 ms per call.
    const hash = (await scryptAsync(randomBytes(32), salt, 32)) as Buffer;
    try {
      const created = await OperatorModel.create({
        _id: newId('op'),
        ...filter,
        ...set,
        password_hash: `scrypt$${salt.toString('base64')}$${hash.toString('base64')}`,
        relay_user_linked_id: String(link._id),
      });
      return { status: 201, message: 'Operator provisioned.', data: toOperatorView(created.toObject() as unknown as OperatorDoc, true) };
    } catch (err) {
      if ((err as { code?: number }).code !== 11000) throw err;
      // A concurrent provisioning of the same email won: return its operator.
      const other = await OperatorModel.findOneAndUpdate(filter, { $set: set }, { new: true }).lean<OperatorDoc>();
      if (!other) throw err;
      return { status: 200, message: 'Operator already provisioned; settings refreshed.', data: toOperatorView(other, false) };
    }
  },
});

export const mintOperatorToken = defineRoute({
  method: 'post',
  path: '/relay/mint/operator-token',
  summary: 'Mint an operator token',
  description:
    'Returns an HS256 JWT (key derived by HKDF from the relay master key) with `sub` = operator id and `tids: {<calling tenant_id>: role}` — the calling tenant only. Use it as `Authorization: Bearer` on /operator/* routes and as `?token=` on `/api/v1/ws/operator` (frames in: `take`/`release`/`resolve` `{conversation_id, ref?}` → `result {ok, status?, code?}`, `message {conversation_id, text, client_id?}` → `ack`, `typing`, `read`, `sync {conversation_id, last_seq}` (replays what was missed), `ping`; frames out: `welcome`, `conversation {change, conversation}` for every conversation within the routing keys, `message {conversation_id, message}` for conversations assigned to the operator or still unassigned, `typing`, `read`, `error`). Name the operator by `operator_id` or `email` (404 when not in this tenant).',
  tags: ['Chat: operators'],
  security: 'hmac',
  body: z
    .object({
      operator_id: z.string().startsWith('op_').optional(),
      email: z
        .email()
        .max(254)
        .transform((e) => e.toLowerCase())
        .optional(),
      ttl_seconds: z
        .number()
        .int()
        .min(60)
        .max(7 * 86400)
        .optional(),
    })
    .strict()
    .refine((b) => !!b.operator_id !== !!b.email, 'give exactly one of operator_id or email')
    .meta({ oneOf: [{ required: ['operator_id'] }, { required: ['email'] }] }),
  response: z.object({ operator_token: z.string(), expires_at: z.string(), operator: operatorView.omit({ created: true }) }),
  successStatus: 201,
  errors: [404],
  handler: async (ctx, { body, deps }) => {
    const tenant = tenantOf(ctx);
    const op = await OperatorModel.findOne({
      tenant_id: tenant._id,
      ...(body.operator_id ? { _id: body.operator_id } : { email: body.email }),
      status: 'active',
    }).lean<OperatorDoc>();
    if (!op) throw notFound('Operator');
    const minted = mintToken(
      deps.config,
      { typ: 'operator', sub: op._id, tids: { [tenant._id]: op.role } },
      body.ttl_seconds ?? deps.config.chatOperatorTokenTtlSeconds,
    );
    const { created: _c, ...view } = toOperatorView(op, false);
    return {
      message: 'Operator token minted.',
      data: { operator_token: minted.token, expires_at: minted.expiresAt.toISOString(), operator: view },
    };
  },
});

export const mintVisitorToken = defineRoute({
  method: 'post',
  path: '/relay/mint/visitor-token',
  summary: 'Mint a visitor token for an identified visitor (in-app SDKs)',
  description:
    "mint_visitor_token: like Intercom's identity verification, the tenant's backend vouches for `visitor_user_id`. Reuses that visitor's live session (same conversation) or opens one. `origin` (optional) binds the token to a web origin or app scheme in `allowed_origins`; without it the token is not origin-bound (for native SDKs). Token: HS256 JWT, `ttl_seconds` (default 3600).",
  tags: ['Chat: visitors'],
  security: 'hmac',
  body: z
    .object({
      visitor_user_id: z.string().min(1).max(200),
      visitor_email_hash: z
        .string()
        .regex(/^[0-9a-f]{64}$/, 'must be a sha256 hex digest')
        .nullable()
        .default(null),
      ttl_seconds: z.number().int().min(60).max(86400).default(3600),
      origin: appOrIWebOrigin.nullable().default(null),
      routing_key: z.string().min(1).max(100).nullable().default(null),
      mode: z.enum(['bot', 'human']).default('bot'),
      locale: z.string().max(20).default('fr'),
    })
    .strict(),
  response: z.object({
    session_id: z.string(),
    visitor_token: z.string(),
    expires_at: z.string(),
    conversation_id: z.string().nullable(),
    created: z.boolean(),
  }),
  successStatus: 201,
  otherSuccessStatuses: [200],
  errors: [403],
  handler: async (ctx, { body, deps }) => {
    const tenant = tenantOf(ctx);
    if (body.origin && !originAllowed(tenant, body.origin))
      throw new ApiError('ORIGIN_NOT_ALLOWED', "This origin is not in the tenant's allowed_origins.");
    let session = await VisitorSessionModel.findOne({
      tenant_id: tenant._id,
      visitor_user_id: body.visitor_user_id,
      expires_at: { $gt: new Date() },
    })
      .sort({ created_at: -1 })
      .lean<VisitorSessionDoc>();
    const created = !session;
    if (!session) {
      const doc = await VisitorSessionModel.create({
        _id: newId('vs'),
        tenant_id: tenant._id,
        origin: body.origin ?? 'backend:minted',
        locale: body.locale,
        routing_key: body.routing_key,
        mode: body.mode,
        visitor_user_id: body.visitor_user_id,
        visitor_email_hash: body.visitor_email_hash,
        expires_at: new Date(Date.now() + SESSION_LIFETIME_MS),
      });
      session = doc.toObject() as unknown as VisitorSessionDoc;
    }
    const minted = mintToken(
      deps.config,
      {
        typ: 'visitor',
        tid: tenant._id,
        sid: session._id,
        wkh: widgetKeyHash(tenant.widget_public_key),
        org: body.origin,
        vuid: body.visitor_user_id,
      },
      body.ttl_seconds,
    );
    return {
      status: created ? 201 : 200,
      message: created ? 'Visitor session created.' : 'Visitor token minted for the existing session.',
      data: {
        session_id: session._id,
        visitor_token: minted.token,
        expires_at: minted.expiresAt.toISOString(),
        conversation_id: session.conversation_id ?? null,
        created,
      },
    };
  },
});

async function sessionOf(tenantId: string, sessionId: string): Promise<VisitorSessionDoc> {
  const s = await VisitorSessionModel.findOne({ _id: sessionId, tenant_id: tenantId }).lean<VisitorSessionDoc>();
  if (!s) throw notFound('Visitor session');
  return s;
}

async function conversationOf(tenantId: string, conversationId: string): Promise<ConversationDoc> {
  const c = await ConversationModel.findOne({ _id: conversationId, tenant_id: tenantId }).lean<ConversationDoc>();
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
  handler: async (ctx, { body, deps }) => {
    const tenant = tenantOf(ctx);
    const session = await sessionOf(tenant._id, body.session_id);
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
  handler: async (ctx, { body, deps }) => {
    const tenant = tenantOf(ctx);
    if (body.text.length > deps.config.chatMessageMaxChars)
      throw new ApiError('VALIDATION_FAILED', 'The request body failed validation.', [
        `text: at most ${deps.config.chatMessageMaxChars} characters`,
      ]);
    const conv = await conversationOf(tenant._id, body.conversation_id);
    const message =
      body.sender_type === 'visitor'
        ? await visitorMessage(deps, tenant, await sessionOf(tenant._id, conv.session_id), body.text)
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
  handler: async (ctx, { body, deps }) => {
    const tenant = tenantOf(ctx);
    await conversationOf(tenant._id, body.conversation_id);
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
  handler: async (ctx, { query, deps }) => {
    const tenant = tenantOf(ctx);
    const conv = await conversationOf(tenant._id, query.conversation_id);
    return { message: 'Conversation.', data: await conversationDetail(deps, conv, query.after_seq, query.limit) };
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
  handler: async (ctx, { query }) => {
    const tenant = tenantOf(ctx);
    const t = await TicketModel.findOne({ _id: query.ticket_id, tenant_id: tenant._id }).lean<TicketDoc>();
    if (!t) throw notFound('Ticket');
    return { message: 'Ticket.', data: { ticket: ticketView(t) } };
  },
});

export const chatBackendRoutes = [
  provisionOperator,
  mintOperatorToken,
  mintVisitorToken,
  createConversation,
  sendChatMessage,
  escalateConversation,
  fetchConversation,
  fetchTicket,
];
