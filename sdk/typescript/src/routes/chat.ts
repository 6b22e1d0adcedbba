/**
 * The Chat Relay's backend routes as client methods (checked against the relay's OpenAPI document
 * by the SDK's tests, like the auth routes).
 */
import { s } from '../schema.js';
import { route } from './spec.js';

const str = s.string;
const opt = s.optional;
const nul = s.nullable;

export const CONVERSATION_STATUSES = ['bot', 'pending', 'assigned', 'resolved'] as const;
export const SENDER_TYPES = ['visitor', 'bot', 'system'] as const;

const conversation = s.object({
  id: str(),
  session_id: str(),
  status: s.enum(CONVERSATION_STATUSES),
  routing_key: nul(str()),
  assignee_operator_id: nul(str()),
  ticket_id: nul(str()),
  last_seq: s.number(),
  created_at: str(),
  queued_at: nul(str()),
  assigned_at: nul(str()),
  resolved_at: nul(str()),
});

export const chatMessageFields = {
  id: str(),
  conversation_id: str(),
  seq: s.number(),
  sender_type: s.enum(['visitor', 'operator', 'bot', 'system']),
  sender_id: nul(str()),
  text: str(),
  created_at: str(),
};
const chatMessage = s.object(chatMessageFields);

const ticket = s.object({
  id: str(),
  conversation_id: str(),
  routing_key: nul(str()),
  status: str(),
  reason: nul(str()),
  assignee_operator_id: nul(str()),
  created_at: str(),
  assigned_at: nul(str()),
  resolved_at: nul(str()),
});

const operatorFields = {
  operator_id: str(),
  email: str(),
  display_name: str(),
  routing_keys: s.array(str()),
  role: s.enum(['agent', 'admin']),
  relay_user_linked_id: str(),
  status: s.enum(['active', 'disabled']),
};

export const CHAT_ROUTES = {
  /**
   * A visitor token for an identified visitor (in-app SDKs), reusing that visitor's live session.
   * `visitorEmailHash` is the sha256 hex of the e-mail; `origin` binds the token to one allowed origin.
   */
  mintVisitorToken: route({
    method: 'POST',
    path: '/relay/mint/visitor-token',
    status: 201,
    body: s.object({
      visitor_user_id: str(),
      visitor_email_hash: opt(nul(str())),
      ttl_seconds: opt(s.int()),
      origin: opt(nul(str())),
      routing_key: opt(nul(str())),
      mode: opt(s.enum(['bot', 'human'])),
      locale: opt(str()),
    }),
    response: s.object({
      session_id: str(),
      visitor_token: str(),
      expires_at: str(),
      conversation_id: nul(str()),
      created: s.boolean(),
    }),
  }),
  /** Opens the session's conversation (201) or returns it (200, `created: false`): idempotent, hence retried. */
  createConversation: route({
    method: 'POST',
    path: '/relay/create/conversation',
    status: 201,
    body: s.object({ session_id: str() }),
    response: s.object({ conversation, created: s.boolean() }),
    idempotent: true,
  }),
  /** A message as the bot (default), the system or the visitor. Never retried: a retry could post it twice. */
  sendMessage: route({
    method: 'POST',
    path: '/relay/send/chat-message',
    status: 201,
    body: s.object({ conversation_id: str(), sender_type: s.enum(SENDER_TYPES), text: str() }),
    defaults: { sender_type: 'bot' },
    response: s.object({ message: chatMessage }),
  }),
  /** Bot lane → the human queue, with a ticket (escalation-triggered and ticket-created callbacks). */
  escalateConversation: route({
    method: 'POST',
    path: '/relay/escalate/conversation',
    status: 200,
    body: s.object({ conversation_id: str(), reason: opt(str()) }),
    response: s.object({ conversation }),
  }),
  /** The conversation, its ticket and its messages after `afterSeq`. */
  fetchConversation: route({
    method: 'GET',
    path: '/relay/fetch/conversation',
    status: 200,
    query: s.object({ conversation_id: str(), after_seq: opt(s.int()), limit: opt(s.int()) }),
    response: s.object({ conversation, ticket: nul(ticket), messages: s.array(chatMessage) }),
  }),
  fetchTicket: route({
    method: 'GET',
    path: '/relay/fetch/ticket',
    status: 200,
    query: s.object({ ticket_id: str() }),
    response: s.object({ ticket }),
  }),
  /** Create-or-reuse an operator (idempotent on email and tenant, hence retried): `created` says which. */
  provisionOperator: route({
    method: 'POST',
    path: '/relay/provision/operator',
    status: 201,
    body: s.object({
      email: str(),
      display_name: str(),
      routing_keys: opt(nul(s.array(str()))),
      role: opt(s.enum(['agent', 'admin'])),
      backend_user_id: opt(str()),
    }),
    response: s.object({ ...operatorFields, created: s.boolean() }),
    idempotent: true,
  }),
  /**
   * Disables an operator (idempotent): its tokens are refused and its sockets closed at once, and
   * `mintOperatorToken` answers 410 for it; `provisionOperator` enables it again. Exactly one of `operatorId` / `email`.
   */
  deprovisionOperator: route({
    method: 'POST',
    path: '/relay/deprovision/operator',
    status: 200,
    body: s.exactlyOne({ operator_id: opt(str()), email: opt(str()) }, ['operator_id', 'email']),
    response: s.object(operatorFields),
    idempotent: true,
  }),
  /** An operator token for the inbox or the operator socket; give exactly one of `operatorId` / `email`. */
  mintOperatorToken: route({
    method: 'POST',
    path: '/relay/mint/operator-token',
    status: 201,
    body: s.exactlyOne({ operator_id: opt(str()), email: opt(str()), ttl_seconds: opt(s.int()) }, ['operator_id', 'email']),
    response: s.object({ operator_token: str(), expires_at: str(), operator: s.object(operatorFields) }),
  }),
} as const;
