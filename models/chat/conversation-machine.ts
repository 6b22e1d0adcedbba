/**
 * A conversation's states and who moves it between them: the one place a reader learns the rules.
 * Every state change (conversation-state.ts `changeConversation`) names its transitions here; the
 * guarded MongoDB update's filter is built from them (`conversationGuard`), so the store refuses what
 * the table refuses, and the new status is the transition's `to`.
 *
 *   bot ──escalate──▶ pending ──take──▶ assigned ──resolve──▶ resolved ──reopen──▶ pending
 *                        ▲                  │
 *                        └─────release──────┘          bot, pending ──close──▶ resolved
 *
 * A conversation starts in `bot` (a bot is configured and the visitor asked for it) or `pending`
 * (conversation-messages.ts `ensureConversation`).
 */
import { defineMachine } from '../../platform/state-machine.js';
import { CONVERSATION_STATUSES, type ConversationStatus } from './conversation.js';

/**
 * Who acts. `assignee`: the operator holding the conversation (either role; only an assigned
 * conversation has one). `operator`: an agent-role operator whose routing keys cover it; `admin`: a
 * tenant-admin operator (it sees the whole tenant). `visitor`: the visitor, by writing. `bot`: the
 * tenant's bot, by answering "escalate". `backend`: the tenant's backend, over the signed API.
 * `system`: the relay itself (no bot configured, or the bot could not be reached).
 */
export const CONVERSATION_ACTORS = ['assignee', 'operator', 'admin', 'visitor', 'bot', 'backend', 'system'] as const;
export type ConversationActor = (typeof CONVERSATION_ACTORS)[number];

export const conversationMachine = defineMachine({
  name: 'conversation',
  states: CONVERSATION_STATUSES,
  final: [],
  transitions: {
    escalate: {
      from: ['bot'],
      to: 'pending',
      by: ['bot', 'backend', 'system'],
      why: 'the bot lane hands the visitor to a human: the conversation joins the queue and a ticket opens',
    },
    take: {
      from: ['pending'],
      to: 'assigned',
      by: ['operator', 'admin'],
      why: 'an operator takes a queued conversation; of two racing, exactly one wins (the other gets 409)',
    },
    release: {
      from: ['assigned'],
      to: 'pending',
      by: ['assignee'],
      why: 'the operator holding it puts it back in the queue',
    },
    resolve: {
      from: ['assigned'],
      to: 'resolved',
      by: ['assignee', 'admin'],
      why: 'the operator holding it (or a tenant admin) closes it; its ticket is resolved with it',
    },
    close: {
      from: ['bot', 'pending'],
      to: 'resolved',
      by: ['admin'],
      why: 'a tenant admin closes a conversation nobody holds (the same resolve action, from the bot lane or the queue)',
    },
    reopen: {
      from: ['resolved'],
      to: 'pending',
      by: ['visitor'],
      why: 'the visitor writes to a resolved conversation: it goes back to the queue, unassigned',
    },
  },
});

export type ConversationTransition = keyof typeof conversationMachine.transitions;

/**
 * Who asks for a change. An operator is the table's `assignee` only when it holds the conversation,
 * which only the store knows at the moment of the update: the guard checks it there.
 */
export type ConversationWho =
  { kind: 'operator'; operatorId: string; admin: boolean } | { kind: Exclude<ConversationActor, 'assignee' | 'operator' | 'admin'> };

const statusIs = (states: readonly ConversationStatus[]) => (states.length === 1 ? states[0] : { $in: [...states] });

/**
 * The guarded update for `names` (each leading to the same state) made by `who`: the filter on the
 * conversation's state (and, for what only its assignee may do, on its assignee) that the table
 * allows, and the state it leads to. Null when `who` may make none of them from any state.
 */
export function conversationGuard(
  names: readonly ConversationTransition[],
  who: ConversationWho,
): { filter: Record<string, unknown>; to: ConversationStatus } | null {
  const to = new Set(names.map((n) => conversationMachine.get(n).to));
  const [target] = [...to];
  if (to.size !== 1 || target === undefined) throw new Error(`conversation: ${names.join(', ')} do not lead to one state`);
  // The states `who` may start from as itself, and those it may start from only as the assignee.
  const any = new Set<ConversationStatus>();
  const asAssignee = new Set<ConversationStatus>();
  const self: ConversationActor = who.kind === 'operator' ? (who.admin ? 'admin' : 'operator') : who.kind;
  for (const n of names) {
    const t = conversationMachine.get(n);
    if (t.by.includes(self)) for (const s of t.from) any.add(s);
    if (who.kind === 'operator' && t.by.includes('assignee')) for (const s of t.from) asAssignee.add(s);
  }
  const onlyAssignee = CONVERSATION_STATUSES.filter((s) => asAssignee.has(s) && !any.has(s));
  const free = CONVERSATION_STATUSES.filter((s) => any.has(s));
  const assigneeClause = () => ({
    status: statusIs(onlyAssignee),
    assignee_operator_id: who.kind === 'operator' ? who.operatorId : null,
  });
  if (!onlyAssignee.length) return free.length ? { filter: { status: statusIs(free) }, to: target } : null;
  if (!free.length) return { filter: assigneeClause(), to: target };
  return { filter: { $or: [{ status: statusIs(free) }, assigneeClause()] }, to: target };
}
