/**
 * The inbox drawn from its state (state.ts) with Preact's keyed rendering: each render diffs the
 * tree, so list buttons, the reply box and its caret stay the same DOM nodes across updates (a
 * status change, a reconnect) and keep their focus and text without any restoring by hand. The
 * reply box is uncontrolled and keyed by conversation: a draft lives as long as its conversation is
 * open. Components take the state and the callbacks of the wiring (inbox.ts); none fetches or sends.
 *
 * Plain `h()` calls, no JSX: the bundles are built by esbuild from .ts files (scripts/build-web.ts).
 * Text is always a child (a text node), never markup: chat text is plain text.
 */
import { Fragment, h, type ComponentChildren } from 'preact';
import { useLayoutEffect, useRef } from 'preact/hooks';
import { timeOf, type Locale } from '../shared/i18n.js';
import {
  isMine,
  logRows,
  mineRows,
  queueRows,
  rowsOf,
  selectedConv,
  visitorCode,
  waitingSince,
  waitParts,
  type Conv,
  type InboxState,
  type Tab,
} from './state.js';
import type { StringKey } from './strings.js';

export type T = (k: StringKey, v?: Record<string, string | number>) => string;

export type ViewProps = {
  state: InboxState;
  t: T;
  locale: Locale;
  /** The clock the waiting times are counted against (the wiring ticks it). */
  now: number;
  /** Whether to offer the "turn on notifications" button. */
  askNotifications: boolean;
  on: {
    tab: (k: Tab) => void;
    open: (id: string) => void;
    act: (a: 'take' | 'release' | 'resolve') => void;
    send: (ta: HTMLTextAreaElement) => void;
    typing: () => void;
    notifications: () => void;
  };
};

const visitorName = (t: T, c: Conv) => t('visitorLabel', { code: visitorCode(c.session_id) });
const routing = (t: T, c: Conv) => t('routing', { key: c.routing_key ?? t('anyKey') });

function waitText(p: ViewProps, c: Conv): string | null {
  const since = waitingSince(p.state, c);
  const w = since ? waitParts(since, p.now) : null;
  if (!w) return null;
  const time = w.h ? p.t('waitHours', { h: w.h, m: w.m }) : w.m ? p.t('waitMinutes', { m: w.m }) : p.t('waitUnderMinute');
  return p.t('waiting', { time });
}

export function InboxView(p: ViewProps) {
  const { state: s, t } = p;
  return h(
    'div',
    { class: 'app' },
    h(
      'header',
      { class: 'top' },
      h('h1', {}, t('app')),
      h('span', { class: 'who' }, s.me?.display_name ?? ''),
      p.askNotifications && h('button', { type: 'button', onClick: p.on.notifications }, t('notify')),
    ),
    h('div', { class: s.banner?.error ? 'banner error' : 'banner', role: 'status', hidden: !s.banner }, s.banner?.text ?? ''),
    h(
      'div',
      { class: 'body' },
      h('nav', { class: 'side', 'aria-label': t('app') }, h(Tabs, p), h(ConvList, p)),
      h('main', { class: 'main' }, h(Main, p)),
    ),
    h(
      'div',
      { class: 'sr', 'aria-live': 'polite', 'aria-atomic': 'true' },
      s.live?.kind === 'newConversation'
        ? t('newConversation')
        : s.live?.kind === 'message'
          ? t('newMessageFrom', { text: s.live.text })
          : '',
    ),
  );
}

function Tabs(p: ViewProps) {
  const counts = { queue: queueRows(p.state).length, mine: mineRows(p.state).length };
  return h(
    'div',
    { class: 'tabs', role: 'tablist' },
    (['queue', 'mine'] as const).map((k) =>
      h(
        'button',
        { key: k, class: 'tab', type: 'button', role: 'tab', 'aria-selected': String(k === p.state.tab), onClick: () => p.on.tab(k) },
        p.t(k),
        h('span', { class: 'count' }, String(counts[k])),
      ),
    ),
  );
}

function ConvList(p: ViewProps) {
  const rows = rowsOf(p.state);
  return h(
    'ul',
    { class: 'list', 'aria-label': p.t(p.state.tab) },
    rows.length ? rows.map((c) => h(ConvItem, { key: c.id, p, c })) : h('li', { class: 'empty' }, p.t('empty')),
  );
}

/** One conversation in the list: who (a person, not an id), where, how long they wait, what they said last. */
function ConvItem({ p, c }: { p: ViewProps; c: Conv }) {
  const { state: s, t } = p;
  const wait = waitText(p, c);
  return h(
    'li',
    {},
    h(
      'button',
      {
        class: 'item',
        type: 'button',
        'data-conv': c.id,
        'aria-current': c.id === s.selected ? 'true' : undefined,
        onClick: () => p.on.open(c.id),
      },
      h(
        'span',
        { class: 'line1' },
        visitorName(t, c),
        s.unseen.includes(c.id) && h('span', { class: 'pill new' }, t('unread')),
        c.ticket_id && h('span', { class: 'pill ticket' }, 'ticket'),
      ),
      h('span', { class: 'line2' }, routing(t, c), wait && ' · ', wait && h('span', { class: 'wait' }, wait)),
      h('span', { class: 'line3' }, s.last[c.id]?.text ?? ''),
    ),
  );
}

function Main(p: ViewProps) {
  const c = selectedConv(p.state);
  if (!c) return h('p', { class: 'placeholder' }, p.t('pick'));
  const ticket = p.state.tickets[c.id];
  return h(
    Fragment,
    {},
    h(ConvHead, { key: 'head', p, c }),
    ticket &&
      h(
        'p',
        { key: 'ticket', class: 'ticket-box' },
        p.t('ticket', { id: ticket.id, status: ticket.status }),
        ticket.reason ? ` · ${p.t('reason', { reason: ticket.reason })}` : '',
      ),
    h(Log, { key: `log-${c.id}`, p, c }),
    h('div', { key: 'typing', class: 'typing', 'aria-hidden': 'true' }, p.state.visitorTyping ? p.t('typing') : ''),
    h(Compose, { key: `compose-${c.id}`, p, c }),
  );
}

function ConvHead({ p, c }: { p: ViewProps; c: Conv }) {
  const { state: s, t } = p;
  const mine = isMine(s, c);
  const who = c.assignee_operator_id
    ? (s.names[c.assignee_operator_id] ?? (c.assignee_operator_id === s.me?.id ? t('you') : c.assignee_operator_id))
    : null;
  const canResolve = mine || (s.me?.role === 'admin' && c.status !== 'resolved');
  const wait = waitText(p, c);
  const btn = (a: 'take' | 'release' | 'resolve', enabled: boolean, primary = false) =>
    h('button', { type: 'button', class: primary ? 'primary' : '', disabled: !enabled || !s.online, onClick: () => p.on.act(a) }, t(a));
  return h(
    'div',
    { class: 'conv-head' },
    h('h2', {}, visitorName(t, c)),
    h(
      'div',
      { class: 'facts' },
      h('span', { class: 'pill' }, t(`status_${c.status}` as StringKey)),
      h('span', {}, routing(t, c)),
      wait && h('span', { class: 'wait' }, wait),
      who && h('span', {}, t('assignedTo', { name: who })),
    ),
    h('div', { class: 'actions' }, btn('take', c.status === 'pending', true), btn('release', mine), btn('resolve', canResolve)),
  );
}

function Log({ p, c }: { p: ViewProps; c: Conv }) {
  const { state: s, t } = p;
  const rows = logRows(s, c.id);
  const ref = useRef<HTMLOListElement>(null);
  // Follow the conversation: the newest message in view when the log changes (a message, a read
  // receipt), not on every redraw (the waiting clock), so reading back up is not interrupted.
  const lastSeq = rows.at(-1)?.msg.seq ?? 0;
  const read = s.visitorRead[c.id] ?? 0;
  useLayoutEffect(() => {
    if (ref.current) ref.current.scrollTop = ref.current.scrollHeight;
  }, [lastSeq, read]);
  const whoOf = (sender: string, id: string | null) =>
    sender === 'operator'
      ? id === s.me?.id
        ? t('you')
        : (s.names[id ?? ''] ?? t('agent'))
      : t(sender === 'bot' ? 'bot' : sender === 'system' ? 'system' : 'visitor');
  return h(
    'ol',
    { ref, class: 'log', tabindex: 0, 'aria-label': visitorName(t, c) },
    rows.map(({ msg: m, kind, readByVisitor }) =>
      h(
        'li',
        { key: m.seq, class: `msg ${kind}`, 'data-seq': m.seq },
        h('div', { class: 'who' }, whoOf(m.sender_type, m.sender_id)),
        h('div', { class: 'bubble' }, m.text),
        h('div', { class: 'meta' }, `${timeOf(m.created_at, p.locale)}${readByVisitor ? ` · ${t('read')}` : ''}`),
      ),
    ),
  );
}

/** The reply box: uncontrolled (its text is the browser's), so a re-render never touches what is being typed. */
function Compose({ p, c }: { p: ViewProps; c: Conv }) {
  const { state: s, t } = p;
  const mine = isMine(s, c);
  const ta = useRef<HTMLTextAreaElement>(null);
  const send = () => ta.current && p.on.send(ta.current);
  const children: ComponentChildren = [
    h('label', { class: 'sr', for: 'bl-reply' }, t('reply')),
    h('textarea', {
      ref: ta,
      rows: 2,
      id: 'bl-reply',
      placeholder: mine ? t('placeholder') : c.status === 'resolved' ? t('status_resolved') : t('takeFirst'),
      disabled: !mine || !s.online,
      onKeyDown: (e: KeyboardEvent) => {
        if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
          e.preventDefault();
          send();
        }
      },
      onInput: p.on.typing,
    }),
    h('button', { type: 'submit', disabled: !mine || !s.online }, t('send')),
  ];
  return h(
    'form',
    {
      class: 'compose',
      onSubmit: (e: Event) => {
        e.preventDefault();
        send();
      },
    },
    children,
  );
}
