/**
 * The widget's DOM inside its shadow root: a launcher button with an unread badge, and a panel
 * (non-modal dialog) holding the header, a status banner, the message list, the typing line and the
 * composer. A visually hidden live region announces new messages and status changes to screen readers.
 */
import { ICONS, append, clear, h, icon, nextId } from '../shared/dom.js';

export type ViewHandlers = { toggle: () => void; close: () => void; send: (text: string) => void; typing: () => void };
type T = (key: string, vars?: Record<string, string | number>) => string;

export class WidgetView {
  readonly root: HTMLElement;
  readonly launcher: HTMLButtonElement;
  private readonly badge: HTMLElement;
  readonly panel: HTMLElement;
  private readonly title: HTMLElement;
  private readonly sub: HTMLElement;
  private avatar: HTMLElement;
  private readonly banner: HTMLElement;
  readonly log: HTMLOListElement;
  private readonly typingLine: HTMLElement;
  readonly textarea: HTMLTextAreaElement;
  private readonly live: HTMLElement;
  private readonly sendButton: HTMLButtonElement;
  private unread = 0;

  constructor(
    shadow: ShadowRoot,
    private readonly t: T,
    handlers: ViewHandlers,
  ) {
    const panelId = nextId('bl-panel');
    const inputId = nextId('bl-input');
    this.badge = h('span', { class: 'badge', 'aria-hidden': 'true', hidden: true });
    this.launcher = h(
      'button',
      {
        class: 'launcher',
        type: 'button',
        'aria-expanded': 'false',
        'aria-controls': panelId,
        'aria-label': t('open'),
        onclick: handlers.toggle,
      },
      icon(ICONS.chat),
      this.badge,
    );
    this.title = h('h2', { class: 'title' });
    this.sub = h('p', { class: 'sub' });
    this.avatar = h('span', { class: 'initials', 'aria-hidden': 'true' });
    this.banner = h('div', { class: 'banner', role: 'status', hidden: true });
    this.log = h('ol', { class: 'log', tabindex: '0', 'aria-label': t('messages') });
    this.typingLine = h('div', { class: 'typing', 'aria-hidden': 'true' });
    this.textarea = h('textarea', { id: inputId, rows: '1', placeholder: t('placeholder'), maxlength: '4000', autocomplete: 'off' });
    this.live = h('div', { class: 'sr', 'aria-live': 'polite', 'aria-atomic': 'true' });
    const send = h('button', { class: 'send', type: 'submit', 'aria-label': t('send') }, icon(ICONS.send));
    this.sendButton = send;
    const form = h(
      'form',
      { class: 'compose', onsubmit: (e: Event) => (e.preventDefault(), this.submit(handlers)) },
      h('label', { class: 'sr', for: inputId }, t('label')),
      this.textarea,
      send,
    );
    this.textarea.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.submit(handlers);
      }
    });
    this.textarea.addEventListener('input', () => handlers.typing());
    this.panel = h(
      'section',
      { class: 'panel', id: panelId, role: 'dialog', 'aria-modal': 'false', 'aria-label': t('title', { name: '' }), hidden: true },
      h(
        'header',
        { class: 'head' },
        this.avatar,
        h('div', { class: 'titles' }, this.title, this.sub),
        h('button', { class: 'x', type: 'button', 'aria-label': t('close'), onclick: handlers.close }, icon(ICONS.close)),
      ),
      this.banner,
      this.log,
      this.typingLine,
      form,
    );
    this.panel.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        handlers.close();
      }
    });
    // A complementary landmark, so the widget is never loose content in the host page's structure.
    this.root = h('aside', { class: 'root', 'aria-label': 'Chat' }, this.panel, this.launcher, this.live);
    shadow.appendChild(this.root);
  }

  private submit(handlers: ViewHandlers): void {
    const text = this.textarea.value.trim();
    if (!text) return;
    this.textarea.value = '';
    handlers.send(text);
  }

  setOnline(online: boolean): void {
    this.sub.textContent = this.t(online ? 'online' : 'away');
  }

  setBrand(name: string, logoUrl: string | null, online: boolean | null): void {
    this.title.textContent = name;
    this.panel.setAttribute('aria-label', this.t('title', { name }));
    this.sub.textContent = online === null ? '' : this.t(online ? 'online' : 'away');
    const initials = h('span', { class: 'initials', 'aria-hidden': 'true' }, name.trim().charAt(0).toUpperCase() || '?');
    let next: HTMLElement = initials;
    if (logoUrl) {
      const img = h('img', { class: 'logo', src: logoUrl, alt: '' });
      img.addEventListener('error', () => img.replaceWith(initials));
      next = img;
    }
    this.avatar.replaceWith(next);
    this.avatar = next;
  }

  setOpen(open: boolean): void {
    this.panel.hidden = !open;
    this.launcher.setAttribute('aria-expanded', String(open));
    this.launcher.setAttribute(
      'aria-label',
      open ? this.t('close') : this.unread ? this.t('openUnread', { n: this.unread }) : this.t('open'),
    );
  }

  setUnread(n: number): void {
    this.unread = n;
    this.badge.hidden = n === 0;
    this.badge.textContent = n > 99 ? '99+' : String(n);
    this.setOpen(!this.panel.hidden);
  }

  setBanner(text: string | null, error = false): void {
    this.banner.hidden = !text;
    this.banner.textContent = text ?? '';
    this.banner.className = error ? 'banner error' : 'banner';
  }

  setComposerEnabled(on: boolean): void {
    this.textarea.disabled = !on;
    this.sendButton.disabled = !on;
  }

  /** One message bubble; returns its meta line (status, time, read receipt) for later updates. */
  addMessage(mine: boolean, who: string, text: string, meta: string, id?: string): { li: HTMLLIElement; meta: HTMLElement } {
    const metaEl = h('span', { class: 'meta' }, meta);
    const li = h(
      'li',
      { class: mine ? 'msg me' : 'msg them', 'data-id': id ?? null },
      h('span', { class: mine ? 'sr' : 'who' }, who),
      h('div', { class: 'bubble' }, text),
      metaEl,
    );
    this.log.appendChild(li);
    this.scrollDown();
    return { li, meta: metaEl };
  }

  addNote(text: string): void {
    append(this.log, h('li', { class: 'note' }, text));
    this.scrollDown();
  }

  clearLog(): void {
    clear(this.log);
  }

  setTyping(text: string | null): void {
    this.typingLine.textContent = text ?? '';
  }

  announce(text: string): void {
    this.live.textContent = text;
  }

  scrollDown(): void {
    this.log.scrollTop = this.log.scrollHeight;
  }
}
