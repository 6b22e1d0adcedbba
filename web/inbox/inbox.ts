/**
 * The operator inbox (docs/contract.md §3.3, §3.5b), its wiring: the queue of the operator's routing keys and
 * their own conversations, one conversation open at a time with its messages, its ticket and the
 * actions the relay allows (take, release, resolve, reply), live through the operator socket.
 *
 * Three parts: state.ts holds the state and the rules (pure, unit-tested), view.ts draws it
 * (Preact), and this class connects them to the relay: it fetches, sends, keeps the timers, and
 * after each change of state renders the view again and carries out the effects the rules asked for
 * (a desktop notification, a read receipt, a ticket to read again).
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
import { h, render } from 'preact';
import { adopt, shadowHost } from '../shared/dom.js';
import { RelayError, relayJson } from '../shared/http.js';
import { pickLocale, translator, type Locale } from '../shared/i18n.js';
import { Link, wsUrl, type Frame } from '../shared/socket.js';
import * as S from './state.js';
import { STRINGS } from './strings.js';
import { INBOX_CSS } from './styles.js';
import { InboxView, type T } from './view.js';

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

/** Waiting times are shown in minutes: redraw twice a minute. */
const CLOCK_MS = 30_000;

export class Inbox {
  readonly host: HTMLElement;
  private readonly t: T;
  private readonly locale: Locale;
  private readonly link: Link;
  private readonly mountPoint: HTMLElement;
  private token: string;
  private state = S.initialState();
  private askNotifications: boolean;
  private readonly waiting = new Map<string, (f: Frame) => void>();
  private typingSentAt = 0;
  private typingOff: ReturnType<typeof setTimeout> | null = null;
  private visitorTyping: ReturnType<typeof setTimeout> | null = null;
  private readonly clock: ReturnType<typeof setInterval>;
  private readonly readSent = new Map<string, number>();
  private refSeq = 0;
  private readonly baseTitle = document.title;
  private stopped = false;

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
    // Preact owns this element's children (not the shadow root's: a fallback <style> may sit there).
    this.mountPoint = document.createElement('div');
    this.mountPoint.className = 'root';
    root.appendChild(this.mountPoint);
    container.appendChild(host);
    this.askNotifications = o.notifications !== false && 'Notification' in window && Notification.permission === 'default';
    this.clock = setInterval(() => this.render(), CLOCK_MS);
    this.link = new Link({
      // A one-time ticket in the URL, never the operator token (proxies log URLs): api/chat/socket-tickets.ts.
      url: async () =>
        wsUrl(o.baseUrl, '/api/v1/ws/operator', {
          ticket: (await this.rest<{ ticket: string }>('/operator/create/socket-ticket', 'POST')).ticket,
        }),
      onFrame: (f) => this.onFrame(f),
      onState: (s) => {
        let next = S.setOnline(this.state, s === 'open');
        if (s === 'open') next = S.setBanner(next, null);
        else if (s === 'offline' && !this.stopped) next = S.setBanner(next, this.t('offline'));
        this.set(next);
      },
      onAuthExpired: () => this.renewToken(),
      onRefused: () => this.banner(this.t('refused'), true),
    });
    this.set(S.setBanner(this.state, this.t('connecting')));
    this.link.start();
  }

  unmount(): void {
    this.stopped = true;
    this.link.stop();
    clearInterval(this.clock);
    render(null, this.mountPoint);
    this.host.remove();
    document.title = this.baseTitle;
  }

  setToken(token: string): void {
    this.token = token;
    this.link.restart();
  }

  // ---------------------------------------------------------------------------------------------
  // State → view
  // ---------------------------------------------------------------------------------------------
  private set(next: S.InboxState, effects: S.Effect[] = []): void {
    this.state = next;
    this.render();
    this.updateTitle();
    for (const e of effects) this.carryOut(e);
  }

  private render(): void {
    if (this.stopped && !this.host.isConnected) return;
    render(
      h(InboxView, {
        state: this.state,
        t: this.t,
        locale: this.locale,
        now: Date.now(),
        askNotifications: this.askNotifications,
        on: {
          tab: (k) => this.setTab(k),
          open: (id) => void this.openConversation(id),
          act: (a) => void this.doAction(a),
          send: (ta) => this.sendReply(ta),
          typing: () => this.typing(),
          notifications: () => void this.askForNotifications(),
        },
      }),
      this.mountPoint,
    );
  }

  private carryOut(e: S.Effect): void {
    switch (e.type) {
      case 'notify':
        return this.notify(e.conv);
      case 'refreshTicket':
        return void this.refreshTicket(e.id);
      case 'markRead':
        return this.markRead();
      case 'reopen':
        return void this.openConversation(e.id);
      case 'loadLists':
        return void this.loadLists().catch((err: unknown) => this.banner(err instanceof Error ? err.message : String(err), true));
    }
  }

  private banner(text: string | null, error = false): void {
    this.set(S.setBanner(this.state, text, error));
  }

  private updateTitle(): void {
    if (this.o.titleBadge === false) return;
    const n = S.unseenCount(this.state);
    const title = n ? `(${n}) ${this.baseTitle}` : this.baseTitle;
    if (document.title !== title) document.title = title;
  }

  // ---------------------------------------------------------------------------------------------
  // Relay calls
  // ---------------------------------------------------------------------------------------------
  private rest<R>(path: string, method: 'GET' | 'POST' = 'GET'): Promise<R> {
    return relayJson<R>(`${this.o.baseUrl}/api/v1${path}`, {
      method,
      headers: { Authorization: `Bearer ${this.token}`, ...(this.o.tenantId ? { 'X-Bloonio-Tenant-Id': this.o.tenantId } : {}) },
    }).catch(async (err: unknown) => {
      if (err instanceof RelayError && err.status === 401 && (await this.renewToken())) return this.rest<R>(path, method);
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
    this.banner(this.t('expired'), true);
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
      this.rest<{ conversations: S.Conv[] }>('/operator/fetch/queue?status=pending&limit=200'),
      this.rest<{ conversations: S.Conv[] }>('/operator/fetch/queue?status=assigned&mine=true&limit=200'),
    ]);
    this.set(S.withLists(this.state, queue.conversations, mine.conversations));
    void this.loadPreviews([...queue.conversations, ...mine.conversations]);
  }

  /** The last message of listed conversations that have none shown yet. */
  private async loadPreviews(convs: S.Conv[]): Promise<void> {
    const missing = S.missingPreviews(this.state, convs);
    const read = await Promise.all(
      missing.map(async (c) => {
        const d = await this.rest<{ messages: S.Msg[] }>(
          `/operator/fetch/conversation?conversation_id=${encodeURIComponent(c.id)}&after_seq=${c.last_seq - 1}&limit=1`,
        ).catch(() => null);
        return [c.id, d?.messages[0]] as const;
      }),
    );
    let next = this.state;
    for (const [id, m] of read) if (m) next = S.withPreview(next, id, m);
    if (next !== this.state) this.set(next);
  }

  private async refreshTicket(id: string): Promise<void> {
    const d = await this.rest<{ ticket: S.Ticket | null }>(
      `/operator/fetch/conversation?conversation_id=${encodeURIComponent(id)}&limit=1`,
    ).catch(() => null);
    if (d) this.set(S.withTicket(this.state, id, d.ticket));
  }

  private async openConversation(id: string): Promise<void> {
    this.set(S.select(this.state, id));
    try {
      const d = await this.rest<{ conversation: S.Conv; ticket: S.Ticket | null; messages: S.Msg[] }>(
        `/operator/fetch/conversation?conversation_id=${encodeURIComponent(id)}&limit=500`,
      );
      this.set(S.withDetail(this.state, d));
      // Follow it live from there; the relay replays anything stored since the read.
      this.link.send({ type: 'sync', conversation_id: id, last_seq: S.lastLoadedSeq(this.state, id) });
      if (this.state.selected === id) this.markRead();
    } catch (err) {
      this.banner(err instanceof Error ? err.message : String(err), true);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Frames
  // ---------------------------------------------------------------------------------------------
  private onFrame(f: Frame): void {
    switch (f.type) {
      case 'welcome':
        this.link.confirmed();
        break;
      case 'typing':
        // The visitor's "typing" fades by itself if its "stopped" never comes.
        if (this.visitorTyping) clearTimeout(this.visitorTyping);
        if (f.on === true) this.visitorTyping = setTimeout(() => this.set(S.setVisitorTyping(this.state, false)), 8000);
        break;
      case 'result': {
        const w = this.waiting.get(String(f.ref));
        this.waiting.delete(String(f.ref));
        w?.(f);
        return;
      }
      case 'error':
        return this.banner(this.t('failed', { message: String(f.message ?? f.code ?? '') }), true);
    }
    const step = S.onFrame(this.state, f);
    if (step.state !== this.state || step.effects.length) this.set(step.state, step.effects);
  }

  /** A conversation just entered the queue: a desktop notification, when allowed. */
  private notify(c: S.Conv): void {
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

  private async askForNotifications(): Promise<void> {
    await Notification.requestPermission();
    this.askNotifications = Notification.permission === 'default';
    this.render();
  }

  // ---------------------------------------------------------------------------------------------
  // The operator acting
  // ---------------------------------------------------------------------------------------------
  private setTab(k: S.Tab, focus = true): void {
    this.set(S.setTab(this.state, k));
    if (focus) this.mountPoint.querySelectorAll<HTMLButtonElement>('.tab')[k === 'queue' ? 0 : 1]?.focus();
  }

  private async doAction(action: 'take' | 'release' | 'resolve'): Promise<void> {
    const id = this.state.selected;
    if (!id) return;
    const r = await this.act(action, id);
    if (!r.ok) return this.banner(this.t('failed', { message: String(r.message ?? r.code ?? '') }), true);
    this.set(S.withResult(S.setBanner(this.state, null), action, r.conversation as S.Conv));
    if (action === 'take') {
      this.markRead();
      this.mountPoint.querySelector('textarea')?.focus();
    }
  }

  private sendReply(textarea: HTMLTextAreaElement): void {
    const id = this.state.selected;
    const text = textarea.value.trim();
    if (!id || !text) return;
    const clientId = `r_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    if (!this.link.send({ type: 'message', conversation_id: id, text, client_id: clientId })) return this.banner(this.t('offline'), true);
    textarea.value = '';
    this.stopTyping(id);
  }

  private typing(): void {
    const id = this.state.selected;
    if (!id || !S.isMine(this.state, S.selectedConv(this.state))) return;
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
    const id = this.state.selected;
    if (!id || !S.isMine(this.state, S.selectedConv(this.state)) || document.hidden) return;
    const last = S.lastLoadedSeq(this.state, id);
    if (last > (this.readSent.get(id) ?? 0)) {
      this.readSent.set(id, last);
      this.link.send({ type: 'read', conversation_id: id, seq: last });
    }
  }
}
