/**
 * An invitation link (#invite=<token>, kept in sessionStorage by App.start): who invites where;
 * join with a new account (a password, then the emailed code), or accept as the signed-in account.
 */
import { clear, h } from '../shared/dom.js';
import type { App } from './app.js';
import { authScreen, card, dev, type Sent } from './auth.js';
import { field, form, input, value } from './forms.js';
import type { Role, Session, WorkspaceSummary } from './api.js';
import type { StringKey } from './strings.js';

type InvitationInfo = { workspace_name: string; email: string; role: Role; expires_at: string };

export function invitationScreen(app: App): Node {
  const token = app.invite ?? '';
  const box = card(app, app.t('inviteTitle'), h('p', {}, app.t('loading')));
  const inner = box.querySelector('.card') as HTMLElement;
  void app.run(inner, async () => {
    // The token goes in a POST body, never in a URL (it came in the link's fragment, which no server sees).
    const info = await app.api
      .call<InvitationInfo>('POST', '/fetch/invitation', { body: { invite_token: token } })
      .catch((err: unknown) => {
        app.invite = null;
        throw err;
      });
    clear(inner);
    inner.append(
      h('h1', {}, app.t('inviteTitle')),
      h(
        'p',
        { 'data-test': 'invitation-text' },
        app.t('inviteText', { workspace: info.workspace_name, role: app.t(`role_${info.role}` as StringKey), email: info.email }),
      ),
    );
    if (app.token && app.account) inner.append(acceptRow(app, inner, token));
    else inner.append(joinForm(app, inner, token, info), signInInstead(app));
  });
  return box;
}

/** Signed in already: accept as this account, and land in the workspace. */
function acceptRow(app: App, inner: HTMLElement, token: string): Node {
  const accept = () =>
    void app.run(inner, async () => {
      const ws = await app.api.call<WorkspaceSummary>('POST', '/accept/invitation', { body: { invite_token: token } });
      await app.refreshSession();
      app.workspaceId = ws.workspace_id;
      app.invite = null;
      app.flash = { text: app.t('joinedWs', { workspace: ws.name }), kind: 'ok' };
      location.hash = '#/tenants';
      app.selectWorkspace(ws.workspace_id);
    });
  return h('div', { class: 'row' }, h('button', { type: 'button', onclick: accept }, app.t('accept')));
}

/** A new account for the invited address; it stays pending until the address is proven with the emailed code. */
function joinForm(app: App, inner: HTMLElement, token: string, info: InvitationInfo): Node {
  return form(
    async (f) =>
      app.run(inner, async () => {
        const r = await app.api.call<Sent>('POST', '/register', {
          body: {
            email: info.email,
            password: value(f, 'password'),
            display_name: value(f, 'name'),
            invite_token: token,
            locale: app.locale,
          },
        });
        clear(inner);
        inner.append(
          h('h1', {}, app.t('verifyTitle')),
          h('p', {}, app.t('inviteCodeSent', { email: info.email })),
          codeForm(app, inner, info),
        );
        dev(inner, app, r.dev_otp);
      }),
    field(app.t('email'), input('email', { type: 'email', value: info.email, readonly: true })),
    field(app.t('displayName'), input('name', { autocomplete: 'name', required: true })),
    field(
      app.t('password'),
      input('password', { type: 'password', autocomplete: 'new-password', minlength: '10', required: true }),
      app.t('passwordHint'),
    ),
    h('div', { class: 'row' }, h('button', { type: 'submit' }, app.t('accept'))),
  );
}

/** The emailed code: the account is made, signed in, and lands in the workspace it was invited to. */
function codeForm(app: App, inner: HTMLElement, info: InvitationInfo): Node {
  return form(
    async (cf) =>
      app.run(inner, async () => {
        const s = await app.api.call<Session>('POST', '/verify/registration', { body: { email: info.email, otp: value(cf, 'otp') } });
        app.invite = null;
        app.flash = { text: app.t('joinedWs', { workspace: info.workspace_name }), kind: 'ok' };
        app.workspaceId = s.workspaces.find((w) => w.name === info.workspace_name)?.workspace_id ?? null;
        await app.signedIn(s);
      }),
    field(app.t('code'), input('otp', { autocomplete: 'one-time-code', inputmode: 'numeric', required: true, 'data-test': 'verify-code' })),
    h('div', { class: 'row' }, h('button', { type: 'submit' }, app.t('verify'))),
  );
}

/** Signing in first keeps the invitation: after sign-in the page shows "accept". */
function signInInstead(app: App): Node {
  const signIn = () => {
    clear(app.root);
    app.root.appendChild(authScreen(app));
  };
  return h('div', { class: 'row' }, h('button', { type: 'button', class: 'link', onclick: signIn }, app.t('haveAccount')));
}
