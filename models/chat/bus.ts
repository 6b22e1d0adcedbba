/**
 * The chat fan-out bus (docs/contract.md §3.1, §3.3): every change of a conversation is stored first, then
 * published on its tenant's Redis channel; every API process subscribed to the tenants it holds
 * sockets for relays each event to the sockets allowed to see it (api/chat/ws/). A socket that misses
 * a publication reads the missing range from MongoDB (messages carry their sequence number).
 */
import { redisKey } from '../../platform/keys.js';
import type { FlowDeps } from '../platform/deps.js';
import type { ConvFacts } from './conversation-state.js';
import type { ConversationView } from './conversation.js';
import type { MessageView } from './message.js';

/** What travels on the bus: routing facts (who may see it) plus one neutral event. */
export type BusEvent = {
  tenant_id: string;
  session_id: string;
  conversation_id: string;
  routing_key: string | null;
  assignee: string | null;
  /** Sender side, for typing/read (who must not get an echo). */
  from?: 'visitor' | 'operator' | 'bot' | 'system';
} & (
  | { kind: 'message'; message: MessageView }
  | {
      kind: 'conversation';
      change: ConversationChange;
      conversation: ConversationView;
      operator?: { id: string; display_name: string } | null;
    }
  | { kind: 'typing'; on: boolean; operator_id?: string }
  | { kind: 'read'; seq: number }
);
export type ConversationChange = 'started' | 'escalated' | 'assigned' | 'released' | 'resolved' | 'reopened';

/** One channel per tenant: an API process subscribes to the tenants it has sockets for. */
export function chatChannel(prefix: string, tenantId: string): string {
  return redisKey.chatChannel(prefix, tenantId);
}

export async function publish(deps: FlowDeps, ev: BusEvent): Promise<void> {
  try {
    await deps.redis.publish(chatChannel(deps.config.queuePrefix, ev.tenant_id), JSON.stringify(ev));
  } catch (err) {
    // The change is stored: sockets catch up from MongoDB on their next message or reconnect.
    deps.logger.warn({ conversation_id: ev.conversation_id, err: String(err) }, 'chat publish failed');
  }
}

export function busBase(c: ConvFacts) {
  return {
    tenant_id: c.tenant_id,
    session_id: c.session_id,
    conversation_id: c._id,
    routing_key: c.routing_key ?? null,
    assignee: c.assignee_operator_id ?? null,
  };
}
