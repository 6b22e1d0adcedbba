/**
 * Every callback the relay sends (docs/contract.md §1.4, §2, §3.6), in one catalogue: event name → where it goes
 * → the shape of its `data`. emitEvent (emit-event.ts) takes its types from here, the OpenAPI document
 * lists them as `webhooks`, and the SDKs type their handlers from it. Event names are a public
 * contract: never rename one, add new ones.
 *
 * Each callback body is `{event_id, event_type, tenant_id, created_at, data}`, POSTed to
 * `{callback_url_base}{path}` and signed with HMAC #1.
 */
import { z } from 'zod';
import { CONVERSATION_STATUSES } from '../chat/conversation.js';
import { SENDER_TYPES } from '../chat/message.js';

/** The tenant settings a callback's destination depends on. */
export type CallbackTenant = { _id: string; callback_url_base?: string | null; sudo_callback_path?: string | null };

type EventDef<S extends z.ZodType> = {
  summary: string;
  /** Path under the tenant's callback_url_base. */
  path: (t: CallbackTenant) => string;
  data: S;
};
const def = <S extends z.ZodType>(d: EventDef<S>): EventDef<S> => d;
const fixed = (path: string) => () => path;

export const DEFAULT_SUDO_CALLBACK_PATH = '/api/sudo-callback';

// ---- Auth Relay -----------------------------------------------------------------------------------

const pairingDevice = z.object({
  user_socket_hash: z.string(),
  pairing_id: z.string(),
  device_id: z.string(),
});

/** What a resolved push challenge says, also what fetch/delivery-status reports as its outcome. */
export const challengeOutcome = z.object({
  request_id: z.string(),
  kind: z.string(),
  instruction_id: z.string(),
  status: z.enum(['approved', 'denied', 'expired']),
  user_socket_hash: z.string(),
  relay_user_linked_id: z.string(),
  custom_type: z.string().nullable(),
  expected_action: z.string().nullable(),
  resolved_at: z.string().nullable(),
  device_id: z.string().nullable(),
  decision: z.enum(['approve', 'deny']).nullable(),
  answer: z.string().nullable(),
  number_matched: z.boolean().nullable(),
  reason: z.string().nullable(),
  device_signature: z
    .string()
    .nullable()
    .describe('ECDSA P-256 signature by the device over "BLOONIO-ANSWER-V1\\n{request_id}\\n{decision}\\n{answer}\\n{signed_at_ms}".'),
  signed_at_ms: z.number().nullable(),
});

const challengeEvent = (status: 'approved' | 'denied' | 'expired') =>
  def({
    summary: `A push challenge was ${status}.`,
    path: fixed('/relay-callbacks/auth-challenge'),
    data: challengeOutcome,
  });

const passkeyEvent = z.object({
  backend_user_id: z.string(),
  relay_user_linked_id: z.string(),
  credential_id: z.string().describe('base64url, as the browser reports it'),
  name: z.string(),
  device_type: z.string().describe('singleDevice or multiDevice (synced)'),
  backed_up: z.boolean(),
});
const passkey = <S extends z.ZodType>(summary: string, data: S) => def({ summary, path: fixed('/relay-callbacks/passkey'), data });

/** The ApprovalEvent (docs/contract.md §2.4): once per final state of a sudo dispatch, or of a push challenge sent with approval_event. */
export const approvalEvent = z.object({
  event_id: z.string().describe('The sudo event (sud_…) or push challenge (chg_…) id.'),
  instruction_id: z.string(),
  event_type: z.enum(['sudo_action', 'sudo_group_action', 'sudo_delegated_action', 'auth_challenge']),
  expected_action: z.string().nullable(),
  action_type: z.string().nullable(),
  status: z.enum(['pending', 'approved', 'denied', 'expired', 'cancelled']),
  user_socket_hash: z.string().nullable().describe('The user asked, for a single-user request.'),
  threshold: z.number().int().describe('Distinct people whose approval was needed.'),
  approvals: z.array(
    z.object({
      who: z.object({
        relay_user_linked_id: z.string(),
        backend_user_id: z.string().nullable().describe("Your user's id; null for a person of another organisation (delegation)."),
        tenant_id: z.string(),
      }),
      device: z.object({ device_id: z.string(), device_name: z.string().nullable() }),
      decision: z.enum(['approve', 'deny']),
      at: z.string(),
      signature: z
        .string()
        .describe(
          'ECDSA P-256 by the device key over "BLOONIO-ANSWER-V1\\n{event_id}\\n{decision}\\n{answer}\\n{signed_at_ms}" (push challenges) or "BLOONIO-ANSWER-V2\\n{event_id}\\n{decision}\\n{answer}\\n{display_hash}\\n{signed_at_ms}" (sudo).',
        ),
      signed_at_ms: z.number(),
      display_hash: z.string().nullable().describe('sha256 hex of what the device showed (sudo): what you see is what you sign.'),
    }),
  ),
  denial_reason: z.string().nullable(),
  expires_at: z.string(),
  decided_at: z.string().nullable(),
});

// ---- Chat Relay -----------------------------------------------------------------------------------

/** The nine chat callbacks (docs/contract.md §3.6), sent to `{callback_url_base}/api/v1/chat-callbacks/{event}`. */
export const CHAT_EVENTS = [
  'conversation-started',
  'message-received',
  'ticket-created',
  'ticket-assigned',
  'ticket-resolved',
  'escalation-triggered',
  'agent-assigned',
  'agent-released',
  'agent-resolved',
] as const;
export type ChatEvent = (typeof CHAT_EVENTS)[number];

/** Every chat payload names the conversation, its session, its state and its latest sequence number. */
export const chatFacts = z.object({
  conversation_id: z.string(),
  session_id: z.string(),
  ticket_id: z.string().nullable(),
  routing_key: z.string().nullable(),
  status: z.enum(CONVERSATION_STATUSES),
  assignee_operator_id: z.string().nullable(),
  seq: z.number().int(),
});
const chatMessage = z.object({
  id: z.string(),
  conversation_id: z.string(),
  seq: z.number().int(),
  sender_type: z.enum(SENDER_TYPES),
  sender_id: z.string().nullable(),
  text: z.string(),
  created_at: z.string(),
});
const byOperator = chatFacts.extend({ operator_id: z.string() });
const withReason = chatFacts.extend({ reason: z.string() });

const chat = <S extends z.ZodType>(event: ChatEvent, summary: string, data: S) =>
  def({ summary, path: fixed(`/api/v1/chat-callbacks/${event}`), data });

// ---- The catalogue ----------------------------------------------------------------------------------

export const CALLBACK_EVENTS = {
  'platform.test': def({
    summary: 'Asked for by POST /relay/send/test-callback, to check a receiver.',
    path: fixed('/relay-callbacks/test'),
    data: z.object({ note: z.string() }),
  }),

  'pairing.device_added': def({
    summary: 'A device was paired with a user.',
    path: fixed('/relay-callbacks/pairing'),
    data: pairingDevice.extend({
      backend_user_id: z.string(),
      relay_user_linked_id: z.string(),
      platform: z.string(),
      device_name: z.string(),
      device_count: z.number().int(),
    }),
  }),
  'pairing.device_removed': def({
    summary: 'A device was unpaired (by itself) or revoked (by the backend).',
    path: fixed('/relay-callbacks/pairing'),
    data: pairingDevice.extend({ removed_by: z.enum(['device', 'backend']) }),
  }),
  'auth_challenge.approved': challengeEvent('approved'),
  'auth_challenge.denied': challengeEvent('denied'),
  'auth_challenge.expired': challengeEvent('expired'),

  'sudo.approval_event': def({
    summary: 'The ApprovalEvent: a sudo dispatch (or a push challenge sent with approval_event) reached its final state.',
    path: (t) => t.sudo_callback_path || DEFAULT_SUDO_CALLBACK_PATH,
    data: approvalEvent,
  }),

  'passkey.registered': passkey('A user registered a passkey.', passkeyEvent),
  'passkey.revoked': passkey('A passkey was revoked; it never signs in again.', passkeyEvent),
  'passkey.counter_regression': passkey(
    'A sign-in presented a signature counter lower than the stored one (a possibly cloned authenticator); it was refused.',
    passkeyEvent.extend({ stored_counter: z.number().int(), presented_counter: z.number().int() }),
  ),

  'chat.conversation-started': chat(
    'conversation-started',
    'A visitor opened a conversation.',
    chatFacts.extend({ lane: z.enum(['bot', 'human']) }),
  ),
  'chat.message-received': chat('message-received', 'A message was stored in a conversation.', chatFacts.extend({ message: chatMessage })),
  'chat.ticket-created': chat('ticket-created', 'An escalation opened a ticket.', withReason),
  'chat.ticket-assigned': chat('ticket-assigned', "An operator took an escalated conversation's ticket.", byOperator),
  'chat.ticket-resolved': chat('ticket-resolved', 'A ticket was resolved with its conversation.', byOperator),
  'chat.escalation-triggered': chat('escalation-triggered', 'The bot lane handed the conversation to humans.', withReason),
  'chat.agent-assigned': chat('agent-assigned', 'An operator took the conversation.', byOperator),
  'chat.agent-released': chat('agent-released', 'The operator put the conversation back in the queue.', byOperator),
  'chat.agent-resolved': chat('agent-resolved', 'The conversation was resolved.', byOperator),
} as const;

export type CallbackName = keyof typeof CALLBACK_EVENTS;
export type CallbackData<N extends CallbackName> = z.input<(typeof CALLBACK_EVENTS)[N]['data']>;

export const chatEventName = (event: ChatEvent) => `chat.${event}` as const satisfies CallbackName;
