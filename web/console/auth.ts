/**
 * The screens before a session: sign in (password, then the second factor), sign up (then the
 * emailed code), password reset, and an invitation link (join with a new account, or sign in and
 * accept). In local development without SMTP the relay answers the code itself (dev_otp): shown in a
 * yellow notice, never otherwise.
 */
import { clear, h, type Child } from '../shared/dom.js';
import type { App } from './app.js';
import { field, form, input, show, value } from './app.js';
import type { Role, Session, WorkspaceSummary } from './api.js';
import type { StringKey } from './strings.js';

type Mfa = { redirect_to_mfa: true; challenge_token: string; mfa_factors: ('totp' | 'email')[] };
type Sent = { email: string; dev_otp?: string };

function card(app: App, title: string, ...children: Child[]): HTMLElement {
  return h(
    'main',
    { class: 'auth' },
    h('div', { class: 'row' }, h('div', { class: 'brand' }, app.t('brand')), app.languageSwitch()),
    h('div', { class: 'card' }, h('h1', {}, title), ...children),
  );
}

function dev(where: HTMLElement, app: App, code?: string): void {
  if (code) show(where, app.t('devCode', { code }), 'dev');
}

export function authScreen(app: App): Node {
  const holder = h('div');
  const go = (node: Node) => {
    clear(holder);
    holder.appendChild(node);
    (holder.querySelector('input') as HTMLInputElement | null)?.focus();
  };

  const signIn = (): Node => {
    const box = card(
      app,
      app.t('signIn'),
      form(
        async (f) =>
          app.run(box, async () => {
            const r = await app.api.call<Mfa>('POST', '/login', { body: { email: value(f, 'email'), password: value(f, 'password') } });
            go(mfa(r));
          }),
        field(app.t('email'), input('email', { type: 'email', autocomplete: 'username', required: true })),
        field(app.t('password'), input('password', { type: 'password', autocomplete: 'current-password', required: true })),
        h('div', { class: 'row' }, h('button', { type: 'submit' }, app.t('signIn'))),
      ),
      h(
        'div',
        { class: 'row' },
        h('button', { type: 'button', class: 'link', onclick: () => go(signUp()) }, app.t('signUp')),
        h('button', { type: 'button', class: 'link', onclick: () => go(reset()) }, app.t('forgot')),
      ),
    );
    if (app.flash) {
      show(box.querySelector('.card') as HTMLElement, app.flash.text, app.flash.kind);
      app.flash = null;
    }
    return box;
  };

  const mfa = (c: Mfa): Node => {
    const totp = c.mfa_factors.includes('totp');
    const box = card(
      app,
      app.t('mfaTitle'),
      h('p', {}, totp ? app.t('mfaTotp') : app.t('mfaEmail')),
      form(
        async (f) =>
          app.run(box, async () => {
            const s = await app.api.call<Session>('POST', '/verify/login-otp', {
              body: { challenge_token: c.challenge_token, otp: value(f, 'otp') },
            });
            await app.signedIn(s);
          }),
        field(
          app.t('code'),
          input('otp', { autocomplete: 'one-time-code', inputmode: totp ? 'text' : 'numeric', required: true, 'data-test': 'mfa-code' }),
        ),
        h(
          'div',
          { class: 'row' },
          h('button', { type: 'submit' }, app.t('verify')),
          totp ? null : h('button', { type: 'button', class: 'secondary', onclick: () => void ask(true) }, app.t('resend')),
        ),
      ),
    );
    const inner = box.querySelector('.card') as HTMLElement;
    const ask = (again: boolean) =>
      app.run(inner, async () => {
        const r = await app.api.call<{ dev_otp?: string }>('POST', '/get/login-otp', {
          body: { challenge_token: c.challenge_token, factor: 'email' },
        });
        if (again) show(inner, app.t('resent'), 'ok');
        dev(inner, app, r.dev_otp);
      });
    if (!totp) void ask(false);
    return box;
  };

  const signUp = (): Node => {
    const box = card(
      app,
      app.t('signUp'),
      form(
        async (f) =>
          app.run(box, async () => {
            const email = value(f, 'email');
            const r = await app.api.call<Sent>('POST', '/register', {
              body: {
                email,
                password: value(f, 'password'),
                display_name: value(f, 'name'),
                organization_name: value(f, 'org'),
                locale: app.locale,
              },
            });
            go(verify(email, r.dev_otp));
          }),
        field(app.t('displayName'), input('name', { autocomplete: 'name', required: true })),
        field(app.t('email'), input('email', { type: 'email', autocomplete: 'username', required: true })),
        field(
          app.t('password'),
          input('password', { type: 'password', autocomplete: 'new-password', minlength: '10', required: true }),
          app.t('passwordHint'),
        ),
        field(app.t('organization'), input('org', { autocomplete: 'organization', required: true })),
        h('div', { class: 'row' }, h('button', { type: 'submit' }, app.t('signUp'))),
      ),
      h('div', { class: 'row' }, h('button', { type: 'button', class: 'link', onclick: () => go(signIn()) }, app.t('haveAccount'))),
    );
    return box;
  };

  const verify = (email: string, devOtp?: string): Node => {
    const box = card(
      app,
      app.t('verifyTitle'),
      h('p', {}, app.t('codeSentTo', { email })),
      form(
        async (f) =>
          app.run(box, async () => {
            const s = await app.api.call<Session>('POST', '/verify/registration', { body: { email, otp: value(f, 'otp') } });
            await app.signedIn(s);
          }),
        field(
          app.t('code'),
          input('otp', { autocomplete: 'one-time-code', inputmode: 'numeric', required: true, 'data-test': 'verify-code' }),
        ),
        h(
          'div',
          { class: 'row' },
          h('button', { type: 'submit' }, app.t('verify')),
          h(
            'button',
            {
              type: 'button',
              class: 'secondary',
              onclick: () =>
                void app.run(inner(), async () => {
                  const r = await app.api.call<Sent>('POST', '/resend/registration-otp', { body: { email } });
                  show(inner(), app.t('resent'), 'ok');
                  dev(inner(), app, r.dev_otp);
                }),
            },
            app.t('resend'),
          ),
        ),
      ),
    );
    const inner = () => box.querySelector('.card') as HTMLElement;
    dev(inner(), app, devOtp);
    return box;
  };

  const reset = (): Node => {
    const box = card(
      app,
      app.t('resetTitle'),
      form(
        async (f) =>
          app.run(box, async () => {
            const email = value(f, 'email');
            const r = await app.api.call<Sent>('POST', '/request/password-reset', { body: { email, locale: app.locale } });
            go(resetWithCode(email, r.dev_otp));
          }),
        field(app.t('email'), input('email', { type: 'email', autocomplete: 'username', required: true })),
        h(
          'div',
          { class: 'row' },
          h('button', { type: 'submit' }, app.t('sendCode')),
          h('button', { type: 'button', class: 'link', onclick: () => go(signIn()) }, app.t('back')),
        ),
      ),
    );
    return box;
  };

  const resetWithCode = (email: string, devOtp?: string): Node => {
    const box = card(
      app,
      app.t('resetTitle'),
      h('p', {}, app.t('codeSentTo', { email })),
      form(
        async (f) =>
          app.run(box, async () => {
            await app.api.call('POST', '/reset/password', { body: { email, otp: value(f, 'otp'), new_password: value(f, 'password') } });
            app.flash = { text: app.t('resetDone'), kind: 'ok' };
            go(signIn());
          }),
        field(app.t('code'), input('otp', { autocomplete: 'one-time-code', inputmode: 'numeric', required: true })),
        field(
          app.t('newPassword'),
          input('password', { type: 'password', autocomplete: 'new-password', minlength: '10', required: true }),
          app.t('passwordHint'),
        ),
        h('div', { class: 'row' }, h('button', { type: 'submit' }, app.t('setPassword'))),
      ),
    );
    dev(box.querySelector('.card') as HTMLElement, app, devOtp);
    return box;
  };

  go(signIn());
  return holder;
}

type InvitationInfo = { workspace_name: string; email: string; role: Role; expires_at: string };

/** An invitation link: who invites where; join with a new account, or accept as the signed-in account. */
export function invitationScreen(app: App): Node {
  const token = app.invite ?? '';
  const box = card(app, app.t('inviteTitle'), h('p', {}, app.t('loading')));
  const inner = box.querySelector('.card') as HTMLElement;
  const done = async (ws: string) => {
    app.invite = null;
    app.flash = { text: app.t('joinedWs', { workspace: ws }), kind: 'ok' };
    location.hash = '#/tenants';
  };
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
    if (app.token && app.account) {
      inner.append(
        h(
          'div',
          { class: 'row' },
          h(
            'button',
            {
              type: 'button',
              onclick: () =>
                void app.run(inner, async () => {
                  const ws = await app.api.call<WorkspaceSummary>('POST', '/accept/invitation', { body: { invite_token: token } });
                  await app.refreshSession();
                  app.workspaceId = ws.workspace_id;
                  await done(ws.name);
                  app.selectWorkspace(ws.workspace_id);
                }),
            },
            app.t('accept'),
          ),
        ),
      );
      return;
    }
    inner.append(
      form(
        async (f) =>
          app.run(inner, async () => {
            // The account stays pending until the address is proven with the emailed code.
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
              form(
                async (cf) =>
                  app.run(inner, async () => {
                    const s = await app.api.call<Session>('POST', '/verify/registration', {
                      body: { email: info.email, otp: value(cf, 'otp') },
                    });
                    app.invite = null;
                    app.flash = { text: app.t('joinedWs', { workspace: info.workspace_name }), kind: 'ok' };
                    app.workspaceId = s.workspaces.find((w) => w.name === info.workspace_name)?.workspace_id ?? null;
                    await app.signedIn(s);
                  }),
                field(
                  app.t('code'),
                  input('otp', { autocomplete: 'one-time-code', inputmode: 'numeric', required: true, 'data-test': 'verify-code' }),
                ),
                h('div', { class: 'row' }, h('button', { type: 'submit' }, app.t('verify'))),
              ),
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
      ),
      h(
        'div',
        { class: 'row' },
        h(
          'button',
          {
            type: 'button',
            class: 'link',
            // Signing in first keeps the invitation: after sign-in the page shows "accept".
            onclick: () => {
              clear(app.root);
              app.root.appendChild(authScreen(app));
            },
          },
          app.t('haveAccount'),
        ),
      ),
    );
  });
  return box;
}
