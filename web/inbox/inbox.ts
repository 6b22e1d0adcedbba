/**
 * The operator inbox (SPEC §3.3, §3.5b): the queue of the operator's routing keys and their own
 * conversations, one conversation open at a time with its messages, its ticket and the actions the
 * relay allows (take, release, resolve, reply), live through the operator socket.
 *
 * What it reads and how: lists and a conversation's history over the operator REST routes (Bearer
 * operator token, CORS-enabled so the inbox can live on the tenant's own page); everything live over
 * /api/v1/ws/operator: `conversation` frames (every change within the routing keys), `message`
 * frames (unassigned conversations and the operator's own), typing and read receipts, `result` of
 * take/release/resolve, `ack` of a reply. After a reconnect the lists are read again and the open
 * conversation is re-synced (`sync {last_seq}`: the relay replays what was missed).
 *
 * The relay decides what an operator may see and do; the inbox only mirrors it (another tenant's or
 * another routing key's conversation never reaches it).
 */
import { adopt, clear, h, shadowHost } from '../shared/dom.js';
import { RelayError, relayJson } from '../shared/http.js';
import { pickLocale, timeOf, translator, type Locale } from '../shared/i18n.js';
import { Link, wsUrl, type Frame } from '../shared/socket.js';
import { STRINGS, type StringKey } from './strings.js';
import { INBOX_CSS } from './styles.js';
// Wire types come from the routes (type-only: erased from the bundle).
import type { WireConversation as Conv, WireMessage as Msg, WireTicket as Ticket } from '../../api/chat/views.js';

export type InboxOptions = {
  baseUrl: string;
  token: string;
  /** The tenant, when the token holds several. */
  tenantId?: string;
  locale?: string;
  /** Desktop notification on a new conversation (asks permission on a click); default true. */
  notifications?: boolean;
  /** "(n) " before the page title while conversations wait unopened; default true. */
  titleBadge?: boolean;
  /** Called when the token expired or was refused: resolve a new one to go on, or null to stop. */
  onTokenExpired?: () => Promise<string | null>;
};

type Me = { id: string; display_name: string; routing_keys: string[]; role: string };

export class Inbox {
  readonly host: HTMLElement;
  private readonly t: (k: StringKey, v?: Record<string, string | number>) => string;
  private readonly locale: Locale;
  private readonly link: Link;
  private token: string;
  private me: Me | null = null;
  private readonly convs = new Map<string, Conv>();
  private readonly previews = new Map<string, string>();
  private readonly unseen = new Set<string>();
  private readonly notified = new Set<string>();
  private readonly msgs = new Map<string, Map<number, Msg>>();
  private readonly tickets = new Map<string, Ticket | null>();
  private readonly visitorRead = new Map<string, number>();
  private readonly names = new Map<string, string>();
  private readonly waiting = new Map<string, (f: Frame) => void>();
  private tab: 'queue' | 'mine' = 'queue';
  private selected: string | null = null;
  private typingSentAt = 0;
  private typingOff: ReturnType<typeof setTimeout> | null = null;
  private visitorTyping: ReturnType<typeof setTimeout> | null = null;
  private readSent = new Map<string, number>();
  private refSeq = 0;
  private readonly baseTitle = document.title;
  private stopped = false;
  /** The conversation the main pane was last rendered for. */
  private mainFor: string | null = null;

  // DOM
  private readonly banner: HTMLElement;
  private readonly whoEl: HTMLElement;
  private readonly notifyBtn: HTMLButtonElement;
  private readonly tabs: Record<'queue' | 'mine', { btn: HTMLButtonElement; count: HTMLElement }>;
  private readonly list: HTMLUListElement;
  private readonly main: HTMLElement;
  private readonly live: HTMLElement;

  constructor(
    container: Element,
    private readonly o: InboxOptions,
  ) {
    this.token = o.token;
    this.locale = pickLocale(o.locale);
    this.t = translator(STRINGS, this.locale);
    const { host, root } = shadowHost('bloonio-inbox');
    this.host = host;
    adopt(root, [INBOX_CSS]);
    const t = this.t;
    this.banner = h('div', { class: 'banner', role: 'status', hidden: true });
    this.whoEl = h('span', { class: 'who' });
    this.notifyBtn = h('button', { type: 'button', hidden: true, onclick: () => void this.askNotifications() }, t('notify'));
    const tab = (k: 'queue' | 'mine') => {
      const count = h('span', { class: 'count' }, '0');
      const btn = h(
        'button',
        { class: 'tab', type: 'button', role: 'tab', 'aria-selected': String(k === this.tab), onclick: () => this.setTab(k) },
        t(k),
        count,
      );
      return { btn, count };
    };
    this.tabs = { queue: tab('queue'), mine: tab('mine') };
    this.list = h('ul', { class: 'list', 'aria-label': t('queue') });
    this.main = h('main', { class: 'main' });
    this.live = h('div', { class: 'sr', 'aria-live': 'polite', 'aria-atomic': 'true' });
    root.appendChild(
      h(
        'div',
        { class: 'app' },
        h('header', { class: 'top' }, h('h1', {}, t('app')), this.whoEl, this.notifyBtn),
        this.banner,
        h(
          'div',
          { class: 'body' },
          h(
            'nav',
            { class: 'side', 'aria-label': t('app') },
            h('div', { class: 'tabs', role: 'tablist' }, this.tabs.queue.btn, this.tabs.mine.btn),
            this.list,
          ),
          this.main,
        ),
        this.live,
      ),
    );
    container.appendChild(host);
    this.renderMain();
    this.renderList();
    this.notifyBtn.hidden = !(o.notifications !== false && 'Notification' in window && Notification.permission === 'default');
    this.link = new Link({
      // A one-time ticket in the URL, never the operator token (proxies log URLs): api/chat/socket-tickets.ts.
      url: async () =>
        wsUrl(o.baseUrl, '/api/v1/ws/operator', {
          ticket: (await this.rest<{ ticket: string }>('/operator/create/socket-ticket', 'POST')).ticket,
        }),
      onFrame: (f) => this.onFrame(f),
      onState: (s) => {
        if (s === 'open') this.setBanner(null);
        else if (s === 'offline' && !this.stopped) this.setBanner(this.t('offline'));
        this.renderMain();
      },
      onAuthExpired: () => this.renewToken(),
      onRefused: () => this.setBanner(this.t('refused'), true),
    });
    this.setBanner(t('connecting'));
    this.link.start();
  }

  unmount(): void {
    this.stopped = true;
    this.link.stop();
    this.host.remove();
    document.title = this.baseTitle;
  }

  setToken(token: string): void {
    this.token = token;
    this.link.restart();
  }

  // ---------------------------------------------------------------------------------------------
  // Relay calls
  // ---------------------------------------------------------------------------------------------
  private rest<T>(path: string, method: 'GET' | 'POST' = 'GET'): Promise<T> {
    return relayJson<T>(`${this.o.baseUrl}/api/v1${path}`, {
      method,
      headers: { Authorization: `Bearer ${this.token}`, ...(this.o.tenantId ? { 'X-Bloonio-Tenant-Id': this.o.tenantId } : {}) },
    }).catch(async (err: unknown) => {
      if (err instanceof RelayError && err.status === 401 && (await this.renewToken())) return this.rest<T>(path, method);
      throw err;
    });
  }

  private async renewToken(): Promise<boolean> {
    const next = this.o.onTokenExpired ? await this.o.onTokenExpired().catch(() => null) : null;
    if (next) {
      this.token = next;
      return true;
    }
    this.stopped = true;
    this.setBanner(this.t('expired'), true);
    return false;
  }

  /** Sends a take/release/resolve frame and waits for its `result`. */
  private act(action: 'take' | 'release' | 'resolve', id: string): Promise<Frame> {
    const ref = `r${++this.refSeq}`;
    return new Promise((resolve) => {
      this.waiting.set(ref, resolve);
      if (!this.link.send({ type: action, conversation_id: id, ref })) {
        this.waiting.delete(ref);
        resolve({ type: 'result', ok: false, message: this.t('offline') });
      }
    });
  }

  private async loadLists(): Promise<void> {
    const [queue, mine] = await Promise.all([
      this.rest<{ conversations: Conv[] }>('/operator/fetch/queue?status=pending&limit=200'),
      this.rest<{ conversations: Conv[] }>('/operator/fetch/queue?status=assigned&mine=true&limit=200'),
    ]);
    for (const c of [...queue.conversations, ...mine.conversations]) this.upsert(c, false);
    // Anything we held as waiting or ours that the relay no longer lists has moved on.
    const listed = new Set([...queue.conversations, ...mine.conversations].map((c) => c.id));
    for (const c of this.convs.values())
      if (!listed.has(c.id) && c.status !== 'resolved' && c.id !== this.selected) this.convs.delete(c.id);
    this.renderList();
    this.updateTitle();
    void this.loadPreviews([...queue.conversations, ...mine.conversations]);
  }

  /** The last message of listed conversations that have none shown yet (the list route does not carry it); the first 20. */
  private async loadPreviews(convs: Conv[]): Promise<void> {
    const missing = convs.filter((c) => !this.previews.has(c.id) && c.last_seq > 0).slice(0, 20);
    await Promise.all(
      missing.map(async (c) => {
        const d = await this.rest<{ messages: Msg[] }>(
          `/operator/fetch/conversation?conversation_id=${encodeURIComponent(c.id)}&after_seq=${c.last_seq - 1}&limit=1`,
        ).catch(() => null);
        const m = d?.messages[0];
        if (m && !this.previews.has(c.id)) this.previews.set(c.id, m.text);
      }),
    );
    if (missing.length) this.renderList();
  }

  private async refreshTicket(id: string): Promise<void> {
    const d = await this.rest<{ ticket: Ticket | null }>(
      `/operator/fetch/conversation?conversation_id=${encodeURIComponent(id)}&limit=1`,
    ).catch(() => null);
    if (!d) return;
    this.tickets.set(id, d.ticket);
    if (this.selected === id) this.renderMain();
  }

  private async openConversation(id: string): Promise<void> {
    this.selected = id;
    this.unseen.delete(id);
    this.updateTitle();
    this.renderList();
    this.renderMain();
    try {
      const d = await this.rest<{ conversation: Conv; ticket: Ticket | null; messages: Msg[] }>(
        `/operator/fetch/conversation?conversation_id=${encodeURIComponent(id)}&limit=500`,
      );
      this.upsert(d.conversation, false);
      this.tickets.set(id, d.ticket);
      const m = this.msgs.get(id) ?? new Map<number, Msg>();
      for (const x of d.messages) m.set(x.seq, x);
      this.msgs.set(id, m);
      const last = Math.max(0, ...m.keys());
      // Follow it live from there; the relay replays anything stored since the read.
      this.link.send({ type: 'sync', conversation_id: id, last_seq: last });
      if (this.selected === id) {
        this.renderMain();
        this.markRead();
      }
    } catch (err) {
      this.setBanner(err instanceof Error ? err.message : String(err), true);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Frames
  // ---------------------------------------------------------------------------------------------
  private onFrame(f: Frame): void {
    switch (f.type) {
      case 'welcome': {
        this.link.confirmed();
        this.me = f.operator as Me;
        this.whoEl.textContent = this.me.display_name;
        this.setBanner(null);
        void this.loadLists().catch((err: unknown) => this.setBanner(err instanceof Error ? err.message : String(err), true));
        if (this.selected) void this.openConversation(this.selected);
        return;
      }
      case 'conversation':
        return this.onConversation(f);
      case 'message':
        return this.onMessage(String(f.conversation_id), f.message as Msg);
      case 'typing':
        if (f.conversation_id === this.selected && f.from === 'visitor') this.setVisitorTyping(f.on === true);
        return;
      case 'read':
        if (f.from === 'visitor') {
          const id = String(f.conversation_id);
          this.visitorRead.set(id, Math.max(this.visitorRead.get(id) ?? 0, Number(f.seq) || 0));
          if (id === this.selected) this.renderLog();
        }
        return;
      case 'result': {
        const w = this.waiting.get(String(f.ref));
        this.waiting.delete(String(f.ref));
        w?.(f);
        return;
      }
      case 'error':
        this.setBanner(this.t('failed', { message: String(f.message ?? f.code ?? '') }), true);
        return;
    }
  }

  private onConversation(f: Frame): void {
    const c = f.conversation as Conv;
    const op = f.operator as { id: string; display_name: string } | null;
    if (op) this.names.set(op.id, op.display_name);
    const isNew = !this.convs.has(c.id) || this.convs.get(c.id)?.status !== 'pending';
    this.upsert(c, true);
    if (c.status === 'pending' && isNew && ['started', 'escalated', 'reopened', 'released'].includes(String(f.change))) this.arrived(c);
    if (c.id === this.selected) {
      // A new ticket (escalated), or one whose state follows the conversation's: read it again.
      if (f.change === 'escalated' || (c.ticket_id && ['assigned', 'released', 'resolved'].includes(String(f.change))))
        void this.refreshTicket(c.id);
      this.renderMain();
    }
    this.renderList();
    this.updateTitle();
  }

  private onMessage(convId: string, m: Msg): void {
    const map = this.msgs.get(convId);
    if (map) {
      if (map.has(m.seq)) return;
      map.set(m.seq, m);
    }
    this.previews.set(convId, m.text);
    const c = this.convs.get(convId);
    if (c && m.seq > c.last_seq) c.last_seq = m.seq;
    if (convId === this.selected) {
      if (m.sender_type === 'visitor') {
        this.setVisitorTyping(false);
        this.live.textContent = this.t('newMessageFrom', { text: m.text });
      }
      this.renderLog();
      this.markRead();
    } else if (m.sender_type === 'visitor') this.unseen.add(convId);
    this.renderList();
    this.updateTitle();
  }

  private upsert(c: Conv, live: boolean): void {
    const old = this.convs.get(c.id);
    if (old && live && old.last_seq > c.last_seq) c.last_seq = old.last_seq;
    this.convs.set(c.id, c);
  }

  /** A conversation just entered the queue: title badge, screen-reader line, desktop notification. */
  private arrived(c: Conv): void {
    if (c.id !== this.selected) this.unseen.add(c.id);
    this.live.textContent = this.t('newConversation');
    if (this.notified.has(`${c.id}:${c.queued_at}`)) return;
    this.notified.add(`${c.id}:${c.queued_at}`);
    if (this.o.notifications === false || !('Notification' in window) || Notification.permission !== 'granted') return;
    try {
      const n = new Notification(this.t('newConversation'), {
        body: this.t('newConversationBody', { key: c.routing_key ?? this.t('anyKey') }),
        tag: `bloonio-${c.id}`,
      });
      n.onclick = () => {
        window.focus();
        this.setTab('queue');
        void this.openConversation(c.id);
      };
    } catch {
      /* some browsers only allow notifications from a service worker */
    }
  }

  private async askNotifications(): Promise<void> {
    await Notification.requestPermission();
    this.notifyBtn.hidden = Notification.permission !== 'default';
  }

  private updateTitle(): void {
    if (this.o.titleBadge === false) return;
    const n = [...this.unseen].filter((id) => {
      const c = this.convs.get(id);
      return c && (c.status === 'pending' || (c.status === 'assigned' && c.assignee_operator_id === this.me?.id));
    }).length;
    document.title = n ? `(${n}) ${this.baseTitle}` : this.baseTitle;
  }

  // ---------------------------------------------------------------------------------------------
  // The operator acting
  // ---------------------------------------------------------------------------------------------
  private async doAction(action: 'take' | 'release' | 'resolve'): Promise<void> {
    const id = this.selected;
    if (!id) return;
    const r = await this.act(action, id);
    if (!r.ok) return this.setBanner(this.t('failed', { message: String(r.message ?? r.code ?? '') }), true);
    this.setBanner(null);
    this.upsert(r.conversation as Conv, true);
    if (action === 'take') this.setTab('mine', false);
    this.renderList();
    this.renderMain();
    if (action === 'take') {
      this.markRead();
      this.main.querySelector('textarea')?.focus();
    }
  }

  private mine(c: Conv | undefined): boolean {
    return !!c && c.status === 'assigned' && c.assignee_operator_id === this.me?.id;
  }

  private sendReply(textarea: HTMLTextAreaElement): void {
    const id = this.selected;
    const text = textarea.value.trim();
    if (!id || !text) return;
    const clientId = `r_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    if (!this.link.send({ type: 'message', conversation_id: id, text, client_id: clientId }))
      return this.setBanner(this.t('offline'), true);
    textarea.value = '';
    this.stopTyping(id);
  }

  private typing(): void {
    const id = this.selected;
    if (!id || !this.mine(this.convs.get(id))) return;
    const now = Date.now();
    if (now - this.typingSentAt > 3000) {
      this.typingSentAt = now;
      this.link.send({ type: 'typing', conversation_id: id, on: true });
    }
    if (this.typingOff) clearTimeout(this.typingOff);
    this.typingOff = setTimeout(() => this.stopTyping(id), 4000);
  }

  private stopTyping(id: string): void {
    if (this.typingOff) clearTimeout(this.typingOff);
    this.typingOff = null;
    if (this.typingSentAt) this.link.send({ type: 'typing', conversation_id: id, on: false });
    this.typingSentAt = 0;
  }

  /** Read receipt for the visitor: the latest message of the open conversation, when it is ours. */
  private markRead(): void {
    const id = this.selected;
    if (!id || !this.mine(this.convs.get(id)) || document.hidden) return;
    const last = Math.max(0, ...(this.msgs.get(id)?.keys() ?? []));
    if (last > (this.readSent.get(id) ?? 0)) {
      this.readSent.set(id, last);
      this.link.send({ type: 'read', conversation_id: id, seq: last });
    }
  }

  private setVisitorTyping(on: boolean): void {
    if (this.visitorTyping) clearTimeout(this.visitorTyping);
    const line = this.main.querySelector('.typing');
    if (line) line.textContent = on ? this.t('typing') : '';
    if (on) this.visitorTyping = setTimeout(() => this.setVisitorTyping(false), 8000);
  }

  // ---------------------------------------------------------------------------------------------
  // Rendering
  // ---------------------------------------------------------------------------------------------
  private setBanner(text: string | null, error = false): void {
    this.banner.hidden = !text;
    this.banner.textContent = text ?? '';
    this.banner.className = error ? 'banner error' : 'banner';
  }

  private setTab(k: 'queue' | 'mine', focus = true): void {
    this.tab = k;
    for (const key of ['queue', 'mine'] as const) this.tabs[key].btn.setAttribute('aria-selected', String(key === k));
    this.list.setAttribute('aria-label', this.t(k));
    this.renderList();
    if (focus) this.tabs[k].btn.focus();
  }

  private shortId(id: string): string {
    return id.slice(-6);
  }

  private renderList(): void {
    const all = [...this.convs.values()];
    const queue = all.filter((c) => c.status === 'pending').sort((a, b) => (a.queued_at ?? '').localeCompare(b.queued_at ?? ''));
    const mine = all.filter((c) => this.mine(c));
    this.tabs.queue.count.textContent = String(queue.length);
    this.tabs.mine.count.textContent = String(mine.length);
    const rows = this.tab === 'queue' ? queue : mine;
    const focused = (this.host.shadowRoot?.activeElement as HTMLElement | null)?.dataset?.conv;
    clear(this.list);
    if (!rows.length) this.list.appendChild(h('li', { class: 'empty' }, this.t('empty')));
    for (const c of rows) {
      const btn = h(
        'button',
        {
          class: 'item',
          type: 'button',
          'data-conv': c.id,
          'aria-current': c.id === this.selected ? 'true' : null,
          onclick: () => void this.openConversation(c.id),
        },
        h(
          'span',
          { class: 'line1' },
          this.t('conversation', { id: this.shortId(c.id) }),
          this.unseen.has(c.id) && h('span', { class: 'pill new' }, this.t('unread')),
          c.ticket_id && h('span', { class: 'pill ticket' }, 'ticket'),
        ),
        h(
          'span',
          { class: 'line2' },
          `${this.t('routing', { key: c.routing_key ?? this.t('anyKey') })} · ${this.previews.get(c.id) ?? ''}`,
        ),
      );
      this.list.appendChild(h('li', {}, btn));
      if (focused === c.id) btn.focus();
    }
  }

  private renderMain(): void {
    // A reply being written survives a re-render (a status change, a reconnect), with its focus and caret.
    const old = this.main.querySelector('textarea');
    const keep = old &&
      this.mainFor === this.selected && { value: old.value, focused: this.host.shadowRoot?.activeElement === old, at: old.selectionStart };
    this.mainFor = this.selected;
    this.renderMainNow();
    const ta = this.main.querySelector('textarea');
    if (ta && keep) {
      ta.value = keep.value;
      if (keep.focused && !ta.disabled) {
        ta.focus();
        ta.setSelectionRange(keep.at, keep.at);
      }
    }
  }

  private renderMainNow(): void {
    clear(this.main);
    const c = this.selected ? this.convs.get(this.selected) : undefined;
    if (!c) {
      this.main.appendChild(h('p', { class: 'placeholder' }, this.t('pick')));
      return;
    }
    const online = this.link?.state === 'open';
    const mine = this.mine(c);
    const who = c.assignee_operator_id
      ? (this.names.get(c.assignee_operator_id) ?? (c.assignee_operator_id === this.me?.id ? this.t('you') : c.assignee_operator_id))
      : null;
    const btn = (a: 'take' | 'release' | 'resolve', enabled: boolean, primary = false) =>
      h(
        'button',
        { type: 'button', class: primary ? 'primary' : '', disabled: !enabled || !online, onclick: () => void this.doAction(a) },
        this.t(a),
      );
    const canResolve = mine || (this.me?.role === 'admin' && c.status !== 'resolved');
    this.main.appendChild(
      h(
        'div',
        { class: 'conv-head' },
        h('h2', {}, this.t('conversation', { id: this.shortId(c.id) })),
        h(
          'div',
          { class: 'facts' },
          h('span', { class: 'pill' }, this.t(`status_${c.status}` as StringKey)),
          h('span', {}, this.t('routing', { key: c.routing_key ?? this.t('anyKey') })),
          who && h('span', {}, this.t('assignedTo', { name: who })),
        ),
        h('div', { class: 'actions' }, btn('take', c.status === 'pending', true), btn('release', mine), btn('resolve', canResolve)),
      ),
    );
    const ticket = this.tickets.get(c.id);
    if (ticket)
      this.main.appendChild(
        h(
          'p',
          { class: 'ticket-box' },
          this.t('ticket', { id: ticket.id, status: ticket.status }),
          ticket.reason ? ` · ${this.t('reason', { reason: ticket.reason })}` : '',
        ),
      );
    this.main.appendChild(h('ol', { class: 'log', tabindex: '0', 'aria-label': this.t('conversation', { id: this.shortId(c.id) }) }));
    this.main.appendChild(h('div', { class: 'typing', 'aria-hidden': 'true' }));
    const ta = h('textarea', {
      rows: '2',
      id: 'bl-reply',
      placeholder: mine ? this.t('placeholder') : c.status === 'resolved' ? this.t('status_resolved') : this.t('takeFirst'),
      disabled: !mine || !online,
    });
    ta.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.sendReply(ta);
      }
    });
    ta.addEventListener('input', () => this.typing());
    this.main.appendChild(
      h(
        'form',
        { class: 'compose', onsubmit: (e: Event) => (e.preventDefault(), this.sendReply(ta)) },
        h('label', { class: 'sr', for: 'bl-reply' }, this.t('reply')),
        ta,
        h('button', { type: 'submit', disabled: !mine || !online }, this.t('send')),
      ),
    );
    this.renderLog();
  }

  private renderLog(): void {
    const log = this.main.querySelector('.log');
    const id = this.selected;
    if (!log || !id) return;
    clear(log);
    const msgs = [...(this.msgs.get(id)?.values() ?? [])].sort((a, b) => a.seq - b.seq);
    const read = this.visitorRead.get(id) ?? 0;
    const lastReadOp = msgs.filter((m) => m.sender_type === 'operator' && m.seq <= read).pop();
    for (const m of msgs) {
      const kind = m.sender_type === 'operator' ? 'op' : m.sender_type === 'bot' ? 'bot' : 'them';
      const who =
        m.sender_type === 'operator'
          ? m.sender_id === this.me?.id
            ? this.t('you')
            : (this.names.get(m.sender_id ?? '') ?? this.t('agent'))
          : this.t(m.sender_type === 'bot' ? 'bot' : m.sender_type === 'system' ? 'system' : 'visitor');
      log.appendChild(
        h(
          'li',
          { class: `msg ${kind}`, 'data-seq': m.seq },
          h('div', { class: 'who' }, who),
          h('div', { class: 'bubble' }, m.text),
          h('div', { class: 'meta' }, `${timeOf(m.created_at, this.locale)}${m === lastReadOp ? ` · ${this.t('read')}` : ''}`),
        ),
      );
    }
    log.scrollTop = log.scrollHeight;
  }
}
