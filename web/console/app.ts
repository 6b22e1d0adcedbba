/**
 * The console application: one page, hand-written DOM (web/shared/dom.ts: createElement and
 * textContent only, so it runs under the page's strict CSP and Trusted Types), no framework — the
 * screens are forms and tables redrawn whole on navigation, which plain functions do in a few lines.
 *
 * State: the console token in localStorage (`bloonio:console:v1`, ~7 days, ended server-side by
 * logout), the chosen workspace and language beside it; the screen comes from the URL fragment
 * (#/tenants, #/tenants/<id>, #/members, #/audit, #/security). An invitation link
 * (#invite=<token>) is read once, kept in sessionStorage and removed from the address bar.
 */
import { RelayError } from '../shared/http.js';
import { clear, h } from '../shared/dom.js';
import { translator, type Locale } from '../shared/i18n.js';
import { ConsoleApi, type Account, type Role, type Session, type WorkspaceSummary } from './api.js';
import { show } from './forms.js';
import { stepUpDialog } from './step-up.js';
import { STRINGS, type StringKey } from './strings.js';

const KEY = 'bloonio:console:v1';
const INVITE_KEY = 'bloonio:console:invite';
type Stored = { token?: string; workspace?: string; locale?: Locale };

function load(): Stored {
  try {
    return JSON.parse(localStorage.getItem(KEY) ?? '{}') as Stored;
  } catch {
    return {};
  }
}

export type View = (app: App) => Promise<Node> | Node;
export type AuthScreen = (app: App) => Node;

export class App {
  readonly api: ConsoleApi;
  locale: Locale;
  t: (key: StringKey, vars?: Record<string, string | number>) => string;
  token: string | null;
  account: Account | null = null;
  workspaces: WorkspaceSummary[] = [];
  workspaceId: string | null;
  /** A notice to show once on the next screen (after sign-out, a reset …). */
  flash: { text: string; kind: 'ok' | 'error' | 'info' } | null = null;

  constructor(
    readonly root: HTMLElement,
    readonly base: string,
    private readonly screens: { auth: AuthScreen; invitation: AuthScreen; views: Record<string, View> },
  ) {
    const s = load();
    this.locale = s.locale ?? ((document.documentElement.lang || 'fr').startsWith('en') ? 'en' : 'fr');
    this.t = translator(STRINGS, this.locale);
    this.token = s.token ?? null;
    this.workspaceId = s.workspace ?? null;
    this.api = new ConsoleApi(base, () => this.token);
  }

  private save(): void {
    try {
      localStorage.setItem(
        KEY,
        JSON.stringify({ token: this.token ?? undefined, workspace: this.workspaceId ?? undefined, locale: this.locale }),
      );
    } catch {
      /* private mode: the session lasts as long as the page */
    }
  }

  setLocale(l: Locale): void {
    this.locale = l;
    this.t = translator(STRINGS, l);
    document.documentElement.lang = l;
    this.save();
    void this.render();
  }

  get invite(): string | null {
    try {
      return sessionStorage.getItem(INVITE_KEY);
    } catch {
      return null;
    }
  }

  set invite(v: string | null) {
    try {
      if (v) sessionStorage.setItem(INVITE_KEY, v);
      else sessionStorage.removeItem(INVITE_KEY);
    } catch {
      /* no storage */
    }
  }

  async start(): Promise<void> {
    document.documentElement.lang = this.locale;
    const invite = /(?:^#|&)invite=([^&]+)/.exec(location.hash)?.[1];
    if (invite) {
      this.invite = decodeURIComponent(invite);
      history.replaceState(null, '', location.pathname + location.search);
    }
    window.addEventListener('hashchange', () => void this.render());
    if (this.token) await this.refreshSession().catch(() => undefined);
    await this.render();
  }

  /** Reloads the account and its workspaces (after a change of membership). */
  async refreshSession(): Promise<void> {
    const s = await this.api.call<{ account: Account; workspaces: WorkspaceSummary[] }>('GET', '/fetch/session');
    this.account = s.account;
    this.workspaces = s.workspaces;
    if (!this.workspaces.some((w) => w.workspace_id === this.workspaceId)) this.workspaceId = this.workspaces[0]?.workspace_id ?? null;
    this.save();
  }

  async signedIn(s: Session): Promise<void> {
    this.token = s.console_token;
    this.account = s.account;
    this.workspaces = s.workspaces;
    if (!this.workspaces.some((w) => w.workspace_id === this.workspaceId)) this.workspaceId = this.workspaces[0]?.workspace_id ?? null;
    this.save();
    if (location.hash.length < 3) location.hash = '#/tenants';
    await this.render();
  }

  signOut(reason?: string): void {
    this.token = null;
    this.account = null;
    this.workspaces = [];
    this.save();
    // The next sign-in starts from the tenants list, not from the screen this session ended on.
    history.replaceState(null, '', location.pathname + location.search);
    if (reason) this.flash = { text: reason, kind: 'info' };
    void this.render();
  }

  get workspace(): WorkspaceSummary | null {
    return this.workspaces.find((w) => w.workspace_id === this.workspaceId) ?? null;
  }

  can(role: Role): boolean {
    const rank = { member: 1, admin: 2, owner: 3 };
    const mine = this.workspace?.role;
    return Boolean(mine && rank[mine] >= rank[role]);
  }

  selectWorkspace(id: string): void {
    this.workspaceId = id;
    this.save();
    location.hash = '#/tenants';
    void this.render();
  }

  /**
   * Runs an action; errors become a notice in `where` (an ended session signs out). A sensitive
   * action refused for want of a recent password or code (403 STEP_UP_REQUIRED) asks for one, then
   * runs again.
   */
  async run(where: HTMLElement | null, action: () => Promise<void>): Promise<void> {
    try {
      await action();
    } catch (err) {
      if (err instanceof RelayError && err.status === 401 && err.code === 'INVALID_TOKEN' && this.token)
        return this.signOut(this.t('sessionEnded'));
      if (err instanceof RelayError && err.code === 'STEP_UP_REQUIRED' && (await this.stepUp())) return this.run(where, action);
      const text = err instanceof RelayError ? (err.code === 'UNREACHABLE' ? this.t('unreachable') : err.message) : String(err);
      if (where) show(where, text, 'error');
      else this.flash = { text, kind: 'error' };
    }
  }

  async render(): Promise<void> {
    const invite = this.invite;
    if (!this.token || !this.account) {
      clear(this.root);
      this.root.appendChild(invite ? this.screens.invitation(this) : this.screens.auth(this));
      return;
    }
    if (invite) {
      clear(this.root);
      this.root.appendChild(this.screens.invitation(this));
      return;
    }
    const route = location.hash.replace(/^#\/?/, '') || 'tenants';
    const [section = 'tenants'] = route.split('/'); // a view reads the rest (e.g. #/tenants/<id>)
    const main = h('main', { id: 'main', tabindex: '-1' }, h('p', {}, this.t('loading')));
    clear(this.root);
    this.root.append(this.topBar(), h('div', { class: 'layout' }, this.nav(section), main));
    const view = this.workspace || section === 'security' ? this.screens.views[section] : this.screens.views['none'];
    const node = await Promise.resolve((view ?? this.screens.views['tenants'] ?? (() => h('p')))(this)).catch((err: unknown) => {
      const box = h('div');
      void this.run(box, () => Promise.reject(err));
      return box;
    });
    clear(main);
    if (this.flash) {
      main.appendChild(h('div', { class: `notice ${this.flash.kind}`, role: 'status' }, this.flash.text));
      this.flash = null;
    }
    main.appendChild(node);
  }

  private topBar(): Node {
    const select = h(
      'select',
      {
        id: 'workspace-switcher',
        onchange: (e: Event) => {
          const v = (e.target as HTMLSelectElement).value;
          if (v === '__new') void this.newWorkspace();
          else this.selectWorkspace(v);
        },
      },
      ...this.workspaces.map((w) =>
        h(
          'option',
          { value: w.workspace_id, selected: w.workspace_id === this.workspaceId },
          `${w.name} (${this.t(`role_${w.role}` as StringKey)})`,
        ),
      ),
      h('option', { value: '__new' }, this.t('newWorkspace')),
    );
    return h(
      'header',
      { class: 'top' },
      h('span', { class: 'brand' }, this.t('brand')),
      h('span', {}, h('label', { for: 'workspace-switcher' }, this.t('workspace')), select),
      h('span', { class: 'spacer' }),
      this.languageSwitch(),
      h('span', { class: 'who' }, this.account?.display_name ?? ''),
      h(
        'button',
        {
          type: 'button',
          'data-test': 'sign-out',
          onclick: () =>
            void this.run(null, async () => {
              await this.api.call('POST', '/logout').catch(() => undefined);
              this.signOut();
            }),
        },
        this.t('signOut'),
      ),
    );
  }

  languageSwitch(): Node {
    return h(
      'select',
      {
        'aria-label': this.t('language'),
        'data-test': 'language',
        onchange: (e: Event) => this.setLocale((e.target as HTMLSelectElement).value as Locale),
      },
      h('option', { value: 'fr', selected: this.locale === 'fr' }, 'Français'),
      h('option', { value: 'en', selected: this.locale === 'en' }, 'English'),
    );
  }

  private nav(section: string): Node {
    const link = (s: string, key: StringKey) =>
      h('a', { href: `#/${s}`, ...(section === s ? { 'aria-current': 'page' } : {}) }, this.t(key));
    return h(
      'nav',
      { 'aria-label': 'Console' },
      this.workspace ? link('tenants', 'navTenants') : null,
      this.workspace ? link('members', 'navMembers') : null,
      this.workspace && this.can('admin') ? link('audit', 'navAudit') : null,
      link('security', 'navSecurity'),
    );
  }

  /** Asks for the password (or a code) again in a modal dialog (step-up.ts); true once the relay accepted it. */
  stepUp(): Promise<boolean> {
    return stepUpDialog({ api: this.api, t: this.t, totp: Boolean(this.account?.totp_enabled) });
  }

  private async newWorkspace(): Promise<void> {
    const name = window.prompt(this.t('workspaceName'));
    if (!name?.trim()) return void this.render();
    await this.run(null, async () => {
      const ws = await this.api.call<WorkspaceSummary>('POST', '/create/workspace', { body: { name: name.trim() } });
      await this.refreshSession();
      this.selectWorkspace(ws.workspace_id);
    });
  }
}
