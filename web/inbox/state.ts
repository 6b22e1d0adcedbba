/**
 * The inbox's state and every rule that changes it, with no DOM, no socket and no timer: REST rows
 * and socket frames in, a new state (and the side effects the wiring must carry out) out. The view
 * (view.ts) draws a state; the wiring (inbox.ts) fetches, sends, and feeds what comes back here.
 * Kept pure so the rules run in Node in milliseconds (state.unit.test.ts), and so a reader finds
 * what a frame does to the inbox in one place.
 *
 * Every function returns a new state object and never changes the one it was given.
 */

import type { WireConversation, WireMessage, WireTicket } from '../../api/chat/views.js';

// The wire types come from the routes (type-only imports: erased from the bundle).
/** A conversation as the operator routes and the `conversation` frames carry it. */
export type Conv = WireConversation;
export type Msg = WireMessage;
export type Ticket = WireTicket;
export type Me = { id: string; display_name: string; routing_keys: string[]; role: string };
export type Tab = 'queue' | 'mine';
/** A socket frame, as web/shared/socket.ts parses it. */
export type Frame = { type: string } & Record<string, unknown>;

export type InboxState = {
  me: Me | null;
  tab: Tab;
  selected: string | null;
  /** Whether the operator socket is open (actions and replies need it). */
  online: boolean;
  banner: { text: string; error: boolean } | null;
  convs: Readonly<Record<string, Conv>>;
  /** The latest message known of each conversation: the list's preview and the waiting clock. */
  last: Readonly<Record<string, Msg>>;
  /** The messages of the conversations opened, by sequence number. */
  msgs: Readonly<Record<string, Readonly<Record<number, Msg>>>>;
  tickets: Readonly<Record<string, Ticket | null>>;
  /** The highest sequence number the visitor has read, per conversation. */
  visitorRead: Readonly<Record<string, number>>;
  /** Operators' display names, learnt from `conversation` frames. */
  names: Readonly<Record<string, string>>;
  /** Conversations with something the operator has not opened yet. */
  unseen: readonly string[];
  /** Arrivals already notified (`id:queued_at`): one desktop notification per arrival. */
  notified: readonly string[];
  visitorTyping: boolean;
  /** The last line for screen readers (an aria-live region). */
  live: { kind: 'newConversation' } | { kind: 'message'; text: string } | null;
};

/** What the wiring must do after a change: none of it is state. */
export type Effect =
  | { type: 'notify'; conv: Conv }
  | { type: 'refreshTicket'; id: string }
  | { type: 'markRead' }
  | { type: 'reopen'; id: string }
  | { type: 'loadLists' };

export type Step = { state: InboxState; effects: Effect[] };

export const initialState = (): InboxState => ({
  me: null,
  tab: 'queue',
  selected: null,
  online: false,
  banner: null,
  convs: {},
  last: {},
  msgs: {},
  tickets: {},
  visitorRead: {},
  names: {},
  unseen: [],
  notified: [],
  visitorTyping: false,
  live: null,
});

const without = (list: readonly string[], id: string) => (list.includes(id) ? list.filter((x) => x !== id) : list);
const withItem = (list: readonly string[], id: string) => (list.includes(id) ? list : [...list, id]);

// -----------------------------------------------------------------------------------------------
// Reading the state
// -----------------------------------------------------------------------------------------------

export function isMine(s: InboxState, c: Conv | undefined): boolean {
  return !!c && c.status === 'assigned' && c.assignee_operator_id === s.me?.id;
}

/** The queue tab: waiting conversations, the longest waiting first. */
export function queueRows(s: InboxState): Conv[] {
  return Object.values(s.convs)
    .filter((c) => c.status === 'pending')
    .sort((a, b) => (a.queued_at ?? '').localeCompare(b.queued_at ?? ''));
}

export function mineRows(s: InboxState): Conv[] {
  return Object.values(s.convs).filter((c) => isMine(s, c));
}

export const rowsOf = (s: InboxState): Conv[] => (s.tab === 'queue' ? queueRows(s) : mineRows(s));

/** The "(n)" of the page title: unopened conversations still waiting, or ours. */
export function unseenCount(s: InboxState): number {
  return s.unseen.filter((id) => {
    const c = s.convs[id];
    return c && (c.status === 'pending' || isMine(s, c));
  }).length;
}

export const selectedConv = (s: InboxState): Conv | undefined => (s.selected ? s.convs[s.selected] : undefined);

/**
 * A readable, stable label for the visitor: the relay knows no visitor names, so four hex digits
 * from the visitor's session id (FNV-1a), the same for every conversation of that visitor and in
 * every operator's inbox ("Visitor 4F2A").
 */
export function visitorCode(sessionId: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < sessionId.length; i++) h = Math.imul(h ^ sessionId.charCodeAt(i), 0x01000193);
  return ((h >>> 0) & 0xffff).toString(16).toUpperCase().padStart(4, '0');
}

/**
 * Since when the visitor has been waiting for a human, or null when nobody is waiting: a pending
 * conversation since it entered the queue; one of ours since the first visitor message that no
 * operator has answered yet (the bot's replies answer nothing: it escalated).
 */
export function waitingSince(s: InboxState, c: Conv): string | null {
  if (c.status === 'pending') return c.queued_at;
  if (c.status !== 'assigned') return null;
  const msgs = Object.values(s.msgs[c.id] ?? {}).sort((a, b) => a.seq - b.seq);
  if (!msgs.length) return s.last[c.id]?.sender_type === 'visitor' ? (s.last[c.id]?.created_at ?? null) : null;
  let first: Msg | null = null;
  for (let i = msgs.length - 1; i >= 0; i--) {
    const m = msgs[i];
    if (!m || m.sender_type === 'operator') break;
    if (m.sender_type === 'visitor') first = m;
  }
  return first?.created_at ?? null;
}

/** How long, rounded for a list: whole minutes, then hours and minutes. */
export function waitParts(sinceIso: string, now: number): { h: number; m: number } | null {
  const t = Date.parse(sinceIso);
  if (Number.isNaN(t)) return null;
  const mins = Math.max(0, Math.floor((now - t) / 60_000));
  return { h: Math.floor(mins / 60), m: mins % 60 };
}

export type LogRow = { msg: Msg; kind: 'op' | 'bot' | 'them'; readByVisitor: boolean };

/** The open conversation's messages in order; the last operator message the visitor has read is marked. */
export function logRows(s: InboxState, id: string): LogRow[] {
  const msgs = Object.values(s.msgs[id] ?? {}).sort((a, b) => a.seq - b.seq);
  const read = s.visitorRead[id] ?? 0;
  const lastReadOp = msgs.filter((m) => m.sender_type === 'operator' && m.seq <= read).pop();
  return msgs.map((m) => ({
    msg: m,
    kind: m.sender_type === 'operator' ? 'op' : m.sender_type === 'bot' ? 'bot' : 'them',
    readByVisitor: m === lastReadOp,
  }));
}

/** The latest sequence number loaded for a conversation (0 when none). */
export const lastLoadedSeq = (s: InboxState, id: string): number => Math.max(0, ...Object.keys(s.msgs[id] ?? {}).map(Number));

/** Listed conversations whose last message is not known yet (the list route does not carry it); the first 20. */
export function missingPreviews(s: InboxState, convs: Conv[]): Conv[] {
  return convs.filter((c) => !s.last[c.id] && c.last_seq > 0).slice(0, 20);
}

// -----------------------------------------------------------------------------------------------
// Changing the state
// -----------------------------------------------------------------------------------------------

/** A conversation read again; a live copy never moves `last_seq` backwards (a frame may lag the messages). */
function upsert(s: InboxState, c: Conv, live: boolean): InboxState {
  const old = s.convs[c.id];
  const next = old && live && old.last_seq > c.last_seq ? { ...c, last_seq: old.last_seq } : c;
  return { ...s, convs: { ...s.convs, [c.id]: next } };
}

export const setTab = (s: InboxState, tab: Tab): InboxState => ({ ...s, tab });
export const setOnline = (s: InboxState, online: boolean): InboxState => ({ ...s, online });
export const setBanner = (s: InboxState, text: string | null, error = false): InboxState => ({
  ...s,
  banner: text ? { text, error } : null,
});
export const setVisitorTyping = (s: InboxState, on: boolean): InboxState => (s.visitorTyping === on ? s : { ...s, visitorTyping: on });

/** The operator opens a conversation: it is seen. */
export function select(s: InboxState, id: string): InboxState {
  return { ...s, selected: id, unseen: without(s.unseen, id), visitorTyping: s.selected === id ? s.visitorTyping : false };
}

/** The two list routes answered (pending, and assigned to me): what they no longer list has moved on. */
export function withLists(s: InboxState, queue: Conv[], mine: Conv[]): InboxState {
  const rows = [...queue, ...mine];
  let next = s;
  for (const c of rows) next = upsert(next, c, false);
  const listed = new Set(rows.map((c) => c.id));
  const convs = Object.fromEntries(
    Object.entries(next.convs).filter(([id, c]) => listed.has(id) || c.status === 'resolved' || id === s.selected),
  );
  return { ...next, convs };
}

/** A conversation's latest message, read for the list's preview (a live one that came first wins). */
export function withPreview(s: InboxState, id: string, m: Msg): InboxState {
  return s.last[id] ? s : { ...s, last: { ...s.last, [id]: m } };
}

export function withTicket(s: InboxState, id: string, ticket: Ticket | null): InboxState {
  return { ...s, tickets: { ...s.tickets, [id]: ticket } };
}

/** A conversation read whole (opened): its state, ticket and messages. */
export function withDetail(s: InboxState, d: { conversation: Conv; ticket: Ticket | null; messages: Msg[] }): InboxState {
  const id = d.conversation.id;
  const msgs = { ...(s.msgs[id] ?? {}) };
  for (const m of d.messages) msgs[m.seq] = m;
  const latest = d.messages.at(-1);
  const known = s.last[id];
  const last = latest && (!known || latest.seq >= known.seq) ? { ...s.last, [id]: latest } : s.last;
  return { ...withTicket(upsert(s, d.conversation, false), id, d.ticket), msgs: { ...s.msgs, [id]: msgs }, last };
}

/** The answer to a take / release / resolve: the conversation as the relay left it. */
export function withResult(s: InboxState, action: 'take' | 'release' | 'resolve', c: Conv): InboxState {
  const next = upsert(s, c, true);
  return action === 'take' ? setTab(next, 'mine') : next;
}

/** A frame from the operator socket. `result` and `error` frames are the wiring's (they answer its requests). */
export function onFrame(s: InboxState, f: Frame): Step {
  switch (f.type) {
    case 'welcome':
      return {
        state: { ...s, me: f.operator as Me, banner: null },
        effects: [{ type: 'loadLists' }, ...(s.selected ? [{ type: 'reopen' as const, id: s.selected }] : [])],
      };
    case 'conversation':
      return onConversation(s, f);
    case 'message':
      return onMessage(s, String(f.conversation_id), f.message as Msg);
    case 'typing':
      return { state: f.conversation_id === s.selected && f.from === 'visitor' ? setVisitorTyping(s, f.on === true) : s, effects: [] };
    case 'read': {
      if (f.from !== 'visitor') return { state: s, effects: [] };
      const id = String(f.conversation_id);
      const seq = Math.max(s.visitorRead[id] ?? 0, Number(f.seq) || 0);
      return { state: { ...s, visitorRead: { ...s.visitorRead, [id]: seq } }, effects: [] };
    }
    default:
      return { state: s, effects: [] };
  }
}

const ARRIVALS = ['started', 'escalated', 'reopened', 'released'];

function onConversation(s: InboxState, f: Frame): Step {
  const c = f.conversation as Conv;
  const op = f.operator as { id: string; display_name: string } | null;
  const change = String(f.change);
  let next = op ? { ...s, names: { ...s.names, [op.id]: op.display_name } } : s;
  const isNew = next.convs[c.id]?.status !== 'pending';
  next = upsert(next, c, true);
  const effects: Effect[] = [];
  if (c.status === 'pending' && isNew && ARRIVALS.includes(change)) {
    // Just entered the queue: the title badge, a line for screen readers, a desktop notification once per arrival.
    next = { ...next, live: { kind: 'newConversation' }, unseen: c.id === s.selected ? next.unseen : withItem(next.unseen, c.id) };
    const key = `${c.id}:${c.queued_at}`;
    if (!next.notified.includes(key)) {
      next = { ...next, notified: [...next.notified, key] };
      effects.push({ type: 'notify', conv: c });
    }
  }
  // The open conversation got a new ticket (escalated), or one whose state follows the conversation's: read it again.
  if (c.id === s.selected && (change === 'escalated' || (c.ticket_id && ['assigned', 'released', 'resolved'].includes(change))))
    effects.push({ type: 'refreshTicket', id: c.id });
  return { state: next, effects };
}

function onMessage(s: InboxState, id: string, m: Msg): Step {
  const loaded = s.msgs[id];
  if (loaded?.[m.seq]) return { state: s, effects: [] };
  let next: InboxState = { ...s, last: { ...s.last, [id]: m } };
  if (loaded) next = { ...next, msgs: { ...next.msgs, [id]: { ...loaded, [m.seq]: m } } };
  const c = next.convs[id];
  if (c && m.seq > c.last_seq) next = { ...next, convs: { ...next.convs, [id]: { ...c, last_seq: m.seq } } };
  if (id === s.selected) {
    if (m.sender_type === 'visitor') next = { ...next, visitorTyping: false, live: { kind: 'message', text: m.text } };
    return { state: next, effects: [{ type: 'markRead' }] };
  }
  if (m.sender_type === 'visitor') next = { ...next, unseen: withItem(next.unseen, id) };
  return { state: next, effects: [] };
}
