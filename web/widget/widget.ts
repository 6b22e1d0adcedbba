/**
 * One visitor widget for one tenant (docs/contract.md §3.1, §3.5b). It renders its launcher at once, then asks
 * the relay for the tenant's configuration (branding, online status; a refused origin stops here
 * with a plain message and no session). The visitor session is created on the first message, and
 * resumed after a reload or in another tab from localStorage (keyed by tenant).
 *
 * Delivery guarantees, with the relay's help:
 * - Reconnects use `last_seq`: the relay replays exactly the messages after the last one shown, each
 *   once and in order (and a fresh page load replays the whole conversation from 0).
 * - What the visitor writes goes to a persisted outbox first, under a `client_id`; it is sent when
 *   the socket is open and again after each reconnect until its `ack` arrives. The relay de-duplicates
 *   on `client_id` (api/chat/ws/client-ids.ts), so a message whose ack was lost is stored once.
 */
import { onColor, inkOnWhite, safeColor } from '../shared/color.js';
import { adopt, shadowHost } from '../shared/dom.js';
import { RelayError, relayJson, tokenClaims } from '../shared/http.js';
import { pickLocale, timeOf, translator, type Locale } from '../shared/i18n.js';
import { Link, wsUrl, type Frame, type LinkState } from '../shared/socket.js';
import { STRINGS, type StringKey } from './strings.js';
import { Store, type Outgoing } from './store.js';
// Wire types come from the routes themselves (type-only: erased from the bundle).
import type { SocketTicketResponse } from '../../api/chat/socket-tickets.js';
import type {
  CreateVisitorSessionRequest,
  CreateVisitorSessionResponse,
  RefreshVisitorTokenResponse,
  WidgetConfig,
} from '../../api/chat/visitor.js';
import type { WireConversation, WireMessage as Message } from '../../api/chat/views.js';
import { WIDGET_CSS } from './styles.js';
import { WidgetView } from './view.js';

export type WidgetOptions = {
  tenantId: string;
  widgetKey: string;
  baseUrl: string;
  locale?: string | null;
  routingKey?: string | null;
  mode?: 'bot' | 'human';
  metadata?: Record<string, string | number | boolean | null>;
  /** The greeting shown before the first message (default: a French or English "how can we help?"). */
  welcome?: string | null;
  /** Position among the widgets of this page: each one's launcher sits left of the previous one. */
  index?: number;
};

/** What the widget keeps of its conversation (it makes one up, pending, before the first frame). */
type Conversation = Pick<WireConversation, 'id' | 'status' | 'assignee_operator_id'>;
type Pending = Outgoing & { li: HTMLLIElement; meta: HTMLElement; messageId?: string };

export type WidgetEvent = 'message' | 'open' | 'close' | 'unread';
type Listener = (payload: Record<string, unknown>) => void;

export class Widget {
  readonly tenantId: string;
  readonly host: HTMLElement;
  private readonly view: WidgetView;
  private readonly store: Store;
  private readonly link: Link;
  private readonly locale: Locale;
  private readonly t: (k: StringKey, v?: Record<string, string | number>) => string;
  private config: WidgetConfig | null = null;
  private status: 'loading' | 'ready' | 'refused' | 'unreachable' = 'loading';
  private conversation: Conversation | null = null;
  private lastSeq = 0;
  private readonly shown = new Map<string, { seq: number; meta: HTMLElement }>();
  private readonly pending = new Map<string, Pending>();
  private operatorRead = 0;
  private readMeta: HTMLElement | null = null;
  private unread = 0;
  private isOpen = false;
  private linkStarted = false;
  private creating: Promise<void> | null = null;
  private typingSentAt = 0;
  private typingOff: ReturnType<typeof setTimeout> | null = null;
  private theirTyping: ReturnType<typeof setTimeout> | null = null;
  private configRetry = 0;
  private readonly listeners = new Map<WidgetEvent, Set<Listener>>();
  private readonly onVisible = () => this.markRead();

  constructor(private readonly o: WidgetOptions) {
    this.tenantId = o.tenantId;
    this.locale = pickLocale(o.locale);
    this.t = translator(STRINGS, this.locale);
    this.store = new Store(`bloonio:v1:${o.tenantId}`);
    const { host, root } = shadowHost('bloonio-widget');
    this.host = host;
    host.setAttribute('data-tenant-id', o.tenantId);
    adopt(root, [WIDGET_CSS, this.themeCss(null)]);
    this.view = new WidgetView(root, (k, v) => this.t(k as StringKey, v), {
      toggle: () => (this.isOpen ? this.close() : this.open()),
      close: () => this.close(true),
      send: (text) => this.send(text),
      typing: () => this.typing(),
    });
    this.view.addNote(o.welcome || this.t('welcome'));
    (document.body ?? document.documentElement).appendChild(host);
    this.link = new Link({
      url: () => this.socketUrl(),
      onFrame: (f) => this.onFrame(f),
      onState: (s) => this.onLinkState(s),
      onAuthExpired: () => this.refreshToken(),
      onRefused: () => this.refused(),
    });
    document.addEventListener('visibilitychange', this.onVisible);
    void this.loadConfig();
  }

  // ---------------------------------------------------------------------------------------------
  // Public API (window.Bloonio)
  // ---------------------------------------------------------------------------------------------
  open(): void {
    if (this.isOpen) return;
    this.isOpen = true;
    this.view.setOpen(true);
    this.view.scrollDown();
    this.view.textarea.focus();
    this.emit('open', {});
    this.markRead();
  }

  close(returnFocus = false): void {
    if (!this.isOpen) return;
    this.isOpen = false;
    this.view.setOpen(false);
    if (returnFocus) this.view.launcher.focus();
    this.emit('close', {});
  }

  /** Adopts a visitor token minted by the tenant's backend (an identified visitor); the transcript restarts from it. */
  identify(opts: { visitor_token: string }): void {
    const claims = tokenClaims(opts.visitor_token);
    if (claims.tid !== this.tenantId) throw new Error('Bloonio.identify: this visitor token is not for this tenant');
    this.store.clear();
    this.store.set({ token: opts.visitor_token, ...(claims.sid ? { sessionId: claims.sid } : {}) });
    this.resetTranscript();
    if (this.status === 'ready') this.startLink(true);
  }

  on(event: WidgetEvent, fn: Listener): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(fn);
    return () => set.delete(fn);
  }

  /** Removes the widget, closes its socket and forgets this tenant's session in this browser (e.g. on logout). */
  shutdown(): void {
    this.link.stop();
    document.removeEventListener('visibilitychange', this.onVisible);
    this.host.remove();
    this.store.clear();
    this.listeners.clear();
  }

  private emit(event: WidgetEvent, payload: Record<string, unknown>): void {
    for (const fn of this.listeners.get(event) ?? []) {
      try {
        fn({ tenant_id: this.tenantId, ...payload });
      } catch (err) {
        console.error('Bloonio listener failed', err);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Configuration and session
  // ---------------------------------------------------------------------------------------------
  private themeCss(color: string | null): string {
    const c = safeColor(color);
    const right = 20 + (this.o.index ?? 0) * 76;
    return `:host{right:${right}px!important;--bl-primary:${c};--bl-on-primary:${onColor(c)};--bl-ink:${inkOnWhite(c)}}`;
  }

  private api(path: string): string {
    return `${this.o.baseUrl}/api/v1${path}`;
  }

  private async loadConfig(): Promise<void> {
    const q = `tenant_id=${encodeURIComponent(this.tenantId)}&widget_public_key=${encodeURIComponent(this.o.widgetKey)}`;
    try {
      const c = await relayJson<WidgetConfig>(this.api(`/fetch/widget-config?${q}`));
      this.config = c;
      this.status = 'ready';
      this.configRetry = 0;
      adopt(this.host.shadowRoot as ShadowRoot, [WIDGET_CSS, this.themeCss(c.primary_color)]);
      this.view.setBrand(c.display_name, c.logo_url, c.online);
      this.view.textarea.maxLength = c.max_message_chars;
      this.view.setBanner(null);
      const s = this.store.get();
      if (s.token) this.startLink();
      else if (s.outbox?.length) void this.ensureSession();
    } catch (err) {
      if (err instanceof RelayError && (err.status === 403 || err.status === 404)) return this.refused();
      this.status = 'unreachable';
      this.view.setBanner(this.t('unreachable'), true);
      const delay = Math.min(30_000, 2000 * 2 ** this.configRetry++);
      setTimeout(() => void this.loadConfig(), delay);
    }
  }

  private refused(): void {
    this.status = 'refused';
    this.link.stop();
    this.view.setBanner(this.t('refused'), true);
    this.view.setComposerEnabled(false);
    this.view.setBrand(this.config?.display_name ?? 'Chat', null, null);
    this.view.clearLog();
    this.view.announce(this.t('refused'));
  }

  private ensureSession(): Promise<void> {
    this.creating ??= (async () => {
      try {
        const d = await relayJson<CreateVisitorSessionResponse>(this.api('/create/visitor-session'), {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({
            tenant_id: this.tenantId,
            widget_public_key: this.o.widgetKey,
            origin: location.origin,
            locale: this.locale,
            metadata: this.o.metadata ?? {},
            routing_key: this.o.routingKey ?? null,
            mode: this.o.mode ?? 'bot',
          } satisfies CreateVisitorSessionRequest),
        });
        this.store.set({ token: d.visitor_token, sessionId: d.session_id });
        this.startLink();
      } catch (err) {
        if (err instanceof RelayError && err.status === 403) return this.refused();
        this.view.setBanner(this.t(err instanceof RelayError && err.status === 0 ? 'unreachable' : 'offline'), true);
        setTimeout(() => void this.ensureSession(), 5000);
      } finally {
        this.creating = null;
      }
    })();
    return this.creating;
  }

  /** A fresh token for the same session (the old one may have expired); false when the session is over. */
  private async refreshToken(): Promise<boolean> {
    const token = this.store.get().token;
    if (!token) return false;
    try {
      const d = await relayJson<RefreshVisitorTokenResponse>(this.api('/refresh/visitor-token'), {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}` },
      });
      this.store.set({ token: d.visitor_token });
      return true;
    } catch (err) {
      if (err instanceof RelayError && err.status === 403) {
        this.refused();
        return false;
      }
      // Refresh rotates the token: another tab of this site may have just refreshed it; use its token.
      const latest = this.store.get().token;
      if (err instanceof RelayError && err.status === 401 && latest && latest !== token) return true;
      if (err instanceof RelayError && err.status === 401) {
        // The session ended (30 days, or the widget key was rotated): the next message starts a new one.
        const outbox = this.store.get().outbox ?? [];
        this.store.clear();
        this.store.set({ outbox });
        this.linkStarted = false;
        this.view.addNote(this.t('ended'));
        if (outbox.length) void this.ensureSession();
        return false;
      }
      throw err; // unreachable: the link retries with backoff
    }
  }

  private async socketUrl(): Promise<string | null> {
    let token = this.store.get().token;
    if (!token) return null;
    const exp = tokenClaims(token).exp ?? 0;
    if (exp * 1000 < Date.now() + 30_000) {
      if (!(await this.refreshToken())) return null;
      token = this.store.get().token ?? '';
    }
    // A one-time ticket in the URL, never the visitor token (proxies log URLs): api/chat/socket-tickets.ts.
    const ask = (bearer: string) =>
      relayJson<SocketTicketResponse>(this.api('/create/socket-ticket'), {
        method: 'POST',
        headers: { Authorization: `Bearer ${bearer}` },
      });
    let ticket: string;
    try {
      ticket = (await ask(token)).ticket;
    } catch (err) {
      if (!(err instanceof RelayError)) throw err;
      if (err.status === 403) return (this.refused(), null);
      if (err.status !== 401 || !(await this.refreshToken())) throw err;
      ticket = (await ask(this.store.get().token ?? '')).ticket;
    }
    return wsUrl(this.o.baseUrl, '/api/v1/ws/widget', { ticket, last_seq: this.lastSeq });
  }

  private startLink(restart = false): void {
    if (restart && this.linkStarted) return this.link.restart();
    if (this.linkStarted) return;
    this.linkStarted = true;
    this.link.start();
  }

  private onLinkState(s: LinkState): void {
    if (this.status !== 'ready') return;
    if (s === 'open') this.view.setBanner(null);
    else if (s === 'offline') this.view.setBanner(this.t('offline'));
  }

  // ---------------------------------------------------------------------------------------------
  // Frames from the relay
  // ---------------------------------------------------------------------------------------------
  private onFrame(f: Frame): void {
    switch (f.type) {
      case 'welcome':
        this.link.confirmed();
        this.view.setBanner(null);
        this.setConversation(f.conversation as Conversation | null, false);
        this.flushOutbox();
        return;
      case 'message':
        return this.onMessage(f.message as Message);
      case 'ack':
        return this.onAck(f);
      case 'typing':
        return this.onTheirTyping(f.on === true);
      case 'read':
        return this.onTheirRead(Number(f.seq) || 0);
      case 'agent_joined':
      case 'agent_left': {
        const op = f.operator as { id: string; display_name: string };
        this.store.set({ agents: { ...this.store.get().agents, [op.id]: op.display_name } });
        const note = this.t(f.type === 'agent_joined' ? 'joined' : 'left', { name: op.display_name });
        if (f.type === 'agent_joined') this.view.setOnline(true);
        this.view.addNote(note);
        this.view.announce(note);
        return;
      }
      case 'status':
        return this.setConversation(f.conversation as Conversation, true);
      case 'error':
        return this.onError(f);
    }
  }

  private setConversation(c: Conversation | null, live: boolean): void {
    const before = this.conversation?.status;
    this.conversation = c;
    if (!live || !c || c.status === before) return;
    if (c.status === 'resolved') {
      this.view.addNote(this.t('resolved'));
      this.view.announce(this.t('resolved'));
    } else if (c.status === 'pending' && before !== 'assigned') this.view.addNote(this.t('waiting'));
  }

  private senderName(m: Message): string {
    if (m.sender_type === 'visitor') return this.t('you');
    if (m.sender_type === 'bot') return this.t('bot');
    if (m.sender_type === 'system') return this.config?.display_name ?? '';
    return (m.sender_id && this.store.get().agents?.[m.sender_id]) || this.t('agent');
  }

  private onMessage(m: Message): void {
    if (m.seq <= this.lastSeq || this.shown.has(m.id)) return;
    this.lastSeq = m.seq;
    const time = timeOf(m.created_at, this.locale);
    if (m.sender_type === 'visitor') {
      const mine = [...this.pending.values()].find((p) => p.messageId === m.id);
      if (mine) {
        this.pending.delete(mine.client_id);
        mine.meta.textContent = time;
        this.shown.set(m.id, { seq: m.seq, meta: mine.meta });
      } else {
        const { meta } = this.view.addMessage(true, this.t('you'), m.text, time, m.id);
        this.shown.set(m.id, { seq: m.seq, meta });
      }
      this.showRead();
      return;
    }
    const who = this.senderName(m);
    const { meta } = this.view.addMessage(false, who, m.text, time, m.id);
    this.shown.set(m.id, { seq: m.seq, meta });
    this.onTheirTyping(false);
    const readSeq = this.store.get().readSeq ?? 0;
    if (m.seq > readSeq) {
      this.view.announce(this.t('newMessage', { name: who, text: m.text }));
      this.emit('message', { message: m });
      if (this.isOpen && !document.hidden) this.markRead();
      else this.setUnread(this.unread + 1);
    }
  }

  private onAck(f: Frame): void {
    const p = this.pending.get(String(f.client_id));
    if (f.conversation_id && !this.conversation)
      this.conversation = { id: String(f.conversation_id), status: 'pending', assignee_operator_id: null };
    if (!p) return;
    const id = String(f.message_id);
    this.dropFromOutbox(p.client_id);
    const seen = this.shown.get(id);
    if (seen) {
      // The message already came back through the replay (its first ack was lost with the socket).
      p.li.remove();
      this.pending.delete(p.client_id);
      return;
    }
    p.messageId = id;
    p.meta.textContent = timeOf(new Date().toISOString(), this.locale);
  }

  private onError(f: Frame): void {
    const p = f.client_id ? this.pending.get(String(f.client_id)) : undefined;
    if (!p) return;
    if (f.code === 'RATE_LIMITED' || f.code === 'CONFLICT' || Number(f.status) >= 500) {
      setTimeout(() => this.link.send({ type: 'message', text: p.text, client_id: p.client_id }), 1500);
      return;
    }
    this.dropFromOutbox(p.client_id);
    this.pending.delete(p.client_id);
    p.li.classList.add('failed');
    p.meta.textContent = `${this.t('failed')} — ${String(f.message ?? '')}`;
  }

  private onTheirTyping(on: boolean): void {
    if (this.theirTyping) clearTimeout(this.theirTyping);
    const id = this.conversation?.assignee_operator_id;
    const name = (id && this.store.get().agents?.[id]) || this.t('agent');
    this.view.setTyping(on ? this.t('typing', { name }) : null);
    if (on) this.theirTyping = setTimeout(() => this.view.setTyping(null), 8000);
  }

  private onTheirRead(seq: number): void {
    this.operatorRead = Math.max(this.operatorRead, seq);
    this.showRead();
  }

  /** "Read" under the visitor's latest message the operator has read. */
  private showRead(): void {
    let best: { seq: number; meta: HTMLElement } | null = null;
    for (const [, s] of this.shown)
      if (s.seq <= this.operatorRead && s.meta.parentElement?.classList.contains('me') && (!best || s.seq > best.seq)) best = s;
    if (!best || best.meta === this.readMeta) return;
    if (this.readMeta) this.readMeta.textContent = (this.readMeta.textContent ?? '').replace(` · ${this.t('read')}`, '');
    best.meta.textContent = `${best.meta.textContent ?? ''} · ${this.t('read')}`;
    this.readMeta = best.meta;
  }

  // ---------------------------------------------------------------------------------------------
  // The visitor writing
  // ---------------------------------------------------------------------------------------------
  private send(text: string): void {
    if (this.status === 'refused') return;
    const max = this.config?.max_message_chars ?? 4000;
    if (text.length > max) return this.view.setBanner(this.t('tooLong', { n: max }), true);
    const item: Outgoing = { client_id: `c_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`, text };
    this.store.set({ outbox: [...(this.store.get().outbox ?? []), item] });
    this.render(item);
    this.stopTyping();
    if (!this.store.get().token) {
      if (this.status === 'ready') void this.ensureSession();
      return;
    }
    this.startLink();
    this.transmit(item);
  }

  private render(item: Outgoing): Pending {
    const online = this.link.state === 'open';
    const { li, meta } = this.view.addMessage(true, this.t('you'), item.text, this.t(online ? 'sending' : 'queued'));
    const p: Pending = { ...item, li, meta };
    this.pending.set(item.client_id, p);
    return p;
  }

  private transmit(item: Outgoing): void {
    const p = this.pending.get(item.client_id);
    if (this.link.send({ type: 'message', text: item.text, client_id: item.client_id })) {
      if (p && !p.messageId) p.meta.textContent = this.t('sending');
    } else if (p) p.meta.textContent = this.t('queued');
  }

  /** After each (re)connection: everything not yet acknowledged, in the order it was typed. */
  private flushOutbox(): void {
    for (const item of this.store.get().outbox ?? []) {
      if (!this.pending.has(item.client_id)) this.render(item); // typed in an earlier page load
      this.transmit(item);
    }
  }

  private dropFromOutbox(clientId: string): void {
    this.store.set({ outbox: (this.store.get().outbox ?? []).filter((o) => o.client_id !== clientId) });
  }

  private typing(): void {
    if (this.link.state !== 'open' || !this.conversation) return;
    const now = Date.now();
    if (now - this.typingSentAt > 3000) {
      this.typingSentAt = now;
      this.link.send({ type: 'typing', on: true });
    }
    if (this.typingOff) clearTimeout(this.typingOff);
    this.typingOff = setTimeout(() => this.stopTyping(), 4000);
  }

  private stopTyping(): void {
    if (this.typingOff) clearTimeout(this.typingOff);
    this.typingOff = null;
    if (this.typingSentAt) this.link.send({ type: 'typing', on: false });
    this.typingSentAt = 0;
  }

  private markRead(): void {
    if (!this.isOpen || document.hidden) return;
    const s = this.store.get();
    if (this.lastSeq > (s.readSeq ?? 0)) {
      this.store.set({ readSeq: this.lastSeq });
      this.link.send({ type: 'read', seq: this.lastSeq });
    }
    this.setUnread(0);
  }

  private setUnread(n: number): void {
    if (n === this.unread) return;
    this.unread = n;
    this.view.setUnread(n);
    this.emit('unread', { count: n });
  }

  private resetTranscript(): void {
    this.view.clearLog();
    this.view.addNote(this.o.welcome || this.t('welcome'));
    this.shown.clear();
    this.pending.clear();
    this.lastSeq = 0;
    this.operatorRead = 0;
    this.readMeta = null;
    this.conversation = null;
    this.setUnread(0);
  }
}
