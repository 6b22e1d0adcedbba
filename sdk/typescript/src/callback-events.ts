/**
 * Every callback the relay sends (its callback catalogue, `webhooks` in its OpenAPI document): the
 * event name, the path under the tenant's `callback_url_base` it is POSTed to, and the shape of its
 * `data`. The SDK's tests compare each entry with the document. Event names never change; new ones
 * are added.
 */
import { s, type Infer, type Node } from './schema.js';
import { chatMessageFields, CONVERSATION_STATUSES } from './routes/chat.js';
import { approvalEvent } from './routes/sudo.js';

const str = s.string;
const nul = s.nullable;

/** Where the ApprovalEvent goes when the tenant did not set `sudo_callback_path`. */
export const DEFAULT_SUDO_CALLBACK_PATH = '/api/sudo-callback';
/** Stands for the tenant's `sudo_callback_path` in EVENT_PATHS. */
export const SUDO_CALLBACK_PATH = '{sudo_callback_path}';

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
export type ChatEventName = (typeof CHAT_EVENTS)[number];
export const CHAT_CALLBACK_PREFIX = '/api/v1/chat-callbacks';

const pairingDevice = { user_socket_hash: str(), pairing_id: str(), device_id: str() };

const challengeOutcome = s.object({
  request_id: str(),
  kind: str(),
  instruction_id: str(),
  status: s.enum(['approved', 'denied', 'expired']),
  user_socket_hash: str(),
  relay_user_linked_id: str(),
  custom_type: nul(str()),
  expected_action: nul(str()),
  resolved_at: nul(str()),
  device_id: nul(str()),
  decision: nul(s.enum(['approve', 'deny'])),
  answer: nul(str()),
  number_matched: nul(s.boolean()),
  reason: nul(str()),
  device_signature: nul(str()),
  signed_at_ms: nul(s.number()),
});

const passkeyFields = {
  backend_user_id: str(),
  relay_user_linked_id: str(),
  credential_id: str(),
  name: str(),
  device_type: str(),
  backed_up: s.boolean(),
};

const chatFacts = {
  conversation_id: str(),
  session_id: str(),
  ticket_id: nul(str()),
  routing_key: nul(str()),
  status: s.enum(CONVERSATION_STATUSES),
  assignee_operator_id: nul(str()),
  seq: s.int(),
};
const byOperator = s.object({ ...chatFacts, operator_id: str() });
const withReason = s.object({ ...chatFacts, reason: str() });

interface EventSpec {
  path: string;
  data: Node;
}
const event = <const E extends EventSpec>(e: E): E => e;
const chat = <D extends Node>(name: ChatEventName, data: D) => event({ path: `${CHAT_CALLBACK_PREFIX}/${name}`, data });

export const CALLBACK_EVENTS = {
  'platform.test': event({ path: '/relay-callbacks/test', data: s.object({ note: str() }) }),
  'pairing.device_added': event({
    path: '/relay-callbacks/pairing',
    data: s.object({
      ...pairingDevice,
      backend_user_id: str(),
      relay_user_linked_id: str(),
      platform: str(),
      device_name: str(),
      device_count: s.int(),
    }),
  }),
  'pairing.device_removed': event({
    path: '/relay-callbacks/pairing',
    data: s.object({ ...pairingDevice, removed_by: s.enum(['device', 'backend']) }),
  }),
  'auth_challenge.approved': event({ path: '/relay-callbacks/auth-challenge', data: challengeOutcome }),
  'auth_challenge.denied': event({ path: '/relay-callbacks/auth-challenge', data: challengeOutcome }),
  'auth_challenge.expired': event({ path: '/relay-callbacks/auth-challenge', data: challengeOutcome }),
  'passkey.registered': event({ path: '/relay-callbacks/passkey', data: s.object(passkeyFields) }),
  'passkey.revoked': event({ path: '/relay-callbacks/passkey', data: s.object(passkeyFields) }),
  'passkey.counter_regression': event({
    path: '/relay-callbacks/passkey',
    data: s.object({ ...passkeyFields, stored_counter: s.int(), presented_counter: s.int() }),
  }),
  /**
   * The final state of a sudo event or of a `send/auth-challenge` sent with `approval_event: true`
   * (`status` is never `pending` here: the relay sends it once the request is final).
   */
  'sudo.approval_event': event({ path: SUDO_CALLBACK_PATH, data: approvalEvent }),
  'chat.conversation-started': chat('conversation-started', s.object({ ...chatFacts, lane: s.enum(['bot', 'human']) })),
  'chat.message-received': chat('message-received', s.object({ ...chatFacts, message: s.object({ ...chatMessageFields, seq: s.int() }) })),
  'chat.ticket-created': chat('ticket-created', withReason),
  'chat.ticket-assigned': chat('ticket-assigned', byOperator),
  'chat.ticket-resolved': chat('ticket-resolved', byOperator),
  'chat.escalation-triggered': chat('escalation-triggered', withReason),
  'chat.agent-assigned': chat('agent-assigned', byOperator),
  'chat.agent-released': chat('agent-released', byOperator),
  'chat.agent-resolved': chat('agent-resolved', byOperator),
} as const;

export type CallbackEventType = keyof typeof CALLBACK_EVENTS;
export const CALLBACK_EVENT_TYPES = Object.keys(CALLBACK_EVENTS) as CallbackEventType[];

/** The `data` of one callback event, camelCase. */
export type CallbackData<T extends CallbackEventType> = Infer<(typeof CALLBACK_EVENTS)[T]['data']>;

/** The ApprovalEvent (`sudo.approval_event`'s data). */
export type ApprovalEvent = CallbackData<'sudo.approval_event'>;

/** A verified callback: the envelope (camelCase) and what was verified. */
export interface CallbackEventOf<T extends string, D> {
  eventId: string;
  eventType: T;
  tenantId: string;
  createdAt: string | null;
  data: D;
  /** The signature that was verified (lowercase hex), e.g. to remember it against replays. */
  signature: string;
  timestampMs: number;
  /** The envelope exactly as the relay sent it (snake_case JSON). */
  body: Record<string, unknown>;
}

/** Any verified callback, narrowed by `eventType`: `if (ev.eventType === 'chat.message-received') ev.data.message.text`. */
export type CallbackEvent = { [T in CallbackEventType]: CallbackEventOf<T, CallbackData<T>> }[CallbackEventType];

export const chatEventType = (name: ChatEventName) => `chat.${name}` as const;

/** `"message_received"`, `"chat.message-received"` and `"message-received"` name one chat event. */
export function chatEventName(key: string): ChatEventName {
  const name = key.replace(/^chat\./, '').replace(/_/g, '-');
  if (!(CHAT_EVENTS as readonly string[]).includes(name)) {
    throw new TypeError(`unknown chat event "${key}": one of ${CHAT_EVENTS.join(', ')}`);
  }
  return name as ChatEventName;
}
