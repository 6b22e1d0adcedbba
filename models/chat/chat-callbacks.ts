/**
 * The nine chat callbacks (docs/contract.md §3.6; models/platform/callback-catalogue.ts), each naming the
 * conversation, its session, its state and its latest sequence number, plus what the event adds.
 */
import { chatEventName, type CallbackData, type ChatEvent } from '../platform/callback-catalogue.js';
import type { FlowDeps } from '../platform/deps.js';
import { emitEvent, prepareEvent, type EmitOnce, type EventJob } from '../platform/emit-event.js';
import type { TenantDoc } from '../platform/tenant.js';
import type { ConvFacts } from './conversation-state.js';

type Facts = 'conversation_id' | 'session_id' | 'ticket_id' | 'routing_key' | 'status' | 'assignee_operator_id' | 'seq';
/** What each event adds to the conversation's facts. */
export type ChatExtra<E extends ChatEvent> = Omit<CallbackData<`chat.${E}`>, Facts>;

function chatData<E extends ChatEvent>(c: ConvFacts, extra: ChatExtra<E>): CallbackData<`chat.${E}`> {
  return {
    conversation_id: c._id,
    session_id: c.session_id,
    ticket_id: c.ticket_id ?? null,
    routing_key: c.routing_key ?? null,
    status: c.status,
    assignee_operator_id: c.assignee_operator_id ?? null,
    seq: c.last_seq,
    ...extra,
  } as CallbackData<`chat.${E}`>;
}

/** Emits one chat callback. A failure to store it is logged, never thrown: the change itself happened. */
export async function chatCallback<E extends ChatEvent>(
  deps: FlowDeps,
  tenant: TenantDoc,
  event: E,
  c: ConvFacts,
  extra: ChatExtra<E>,
): Promise<void> {
  try {
    await emitEvent(deps, tenant, chatEventName(event), chatData(c, extra));
  } catch (err) {
    deps.logger.error({ conversation_id: c._id, event, err: String(err) }, 'chat callback could not be stored');
  }
}

/** One chat callback's job, built and not enqueued (its ids fixed by `once`), for work that hands it on. */
export function chatCallbackJob<E extends ChatEvent>(
  tenant: TenantDoc,
  event: E,
  c: ConvFacts,
  extra: ChatExtra<E>,
  once: EmitOnce,
): EventJob {
  return prepareEvent(tenant, chatEventName(event), chatData(c, extra), once).job;
}
