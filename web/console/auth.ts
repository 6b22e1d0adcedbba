/**
 * The screens before a session: sign in (password, then the second factor), sign up (then the
 * emailed code), password reset; an invitation link is invitation.ts. Each screen is a card of
 * its own that moves to the next with `go`. In local development without SMTP the relay answers the code itself (dev_otp): shown in a
 * yellow notice, never otherwise.
 */
import { clear, h, type Child } from '../shared/dom.js';
import type { App } from './app.js';
import { field, form, input, show, value } from './forms.js';
import type { Session } from './api.js';

type Mfa = { redirect_to_mfa: true; challenge_token: string; mfa_factors: ('totp' | 'email')[] };
export type Sent = { email: string; dev_otp?: string };

export function card(app: App, title: string, ...children: Child[]): HTMLElement {
  return h(
    'main',
    { class: 'auth' },
    h('div', { class: 'row' }, h('div', { class: 'brand' }, app.t('brand')), app.languageSwitch()),
    h('div', { class: 'card' }, h('h1', {}, title), ...children),
  );
}

export function dev(where: HTMLElement, app: App, code?: string): void {
  if (code) show(where, app.t('devCode', { code }), 'dev');
}

/** Where a screen sends the next one (the card is replaced, its first input focused). */
type Go = (node: Node) => void;

export function authScreen(app: App): Node {
  const holder = h('div');
  const go: Go = (node) => {
    clear(holder);
    holder.appendChild(node);
    (holder.querySelector('input') as HTMLInputElement | null)?.focus();
  };
  go(signIn(app, go));
  return holder;
}

function signIn(app: App, go: Go): Node {
  const box = card(
    app,
    app.t('signIn'),
    form(
      async (f) =>
        app.run(box, async () => {
          const r = await app.api.call<Mfa>('POST', '/login', { body: { email: value(f, 'email'), password: value(f, 'password') } });
          go(mfa(app, go, r));
        }),
      field(app.t('email'), input('email', { type: 'email', autocomplete: 'username', required: true })),
      field(app.t('password'), input('password', { type: 'password', autocomplete: 'current-password', required: true })),
      h('div', { class: 'row' }, h('button', { type: 'submit' }, app.t('signIn'))),
    ),
    h(
      'div',
      { class: 'row' },
      h('button', { type: 'button', class: 'link', onclick: () => go(signUp(app, go)) }, app.t('signUp')),
      h('button', { type: 'button', class: 'link', onclick: () => go(reset(app, go)) }, app.t('forgot')),
    ),
  );
  if (app.flash) {
    show(box.querySelector('.card') as HTMLElement, app.flash.text, app.flash.kind);
    app.flash = null;
  }
  return box;
}

function mfa(app: App, go: Go, c: Mfa): Node {
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
}

function signUp(app: App, go: Go): Node {
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
          go(verify(app, email, r.dev_otp));
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
    h('div', { class: 'row' }, h('button', { type: 'button', class: 'link', onclick: () => go(signIn(app, go)) }, app.t('haveAccount'))),
  );
  return box;
}

function verify(app: App, email: string, devOtp?: string): Node {
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
}

function reset(app: App, go: Go): Node {
  const box = card(
    app,
    app.t('resetTitle'),
    form(
      async (f) =>
        app.run(box, async () => {
          const email = value(f, 'email');
          const r = await app.api.call<Sent>('POST', '/request/password-reset', { body: { email, locale: app.locale } });
          go(resetWithCode(app, go, email, r.dev_otp));
        }),
      field(app.t('email'), input('email', { type: 'email', autocomplete: 'username', required: true })),
      h(
        'div',
        { class: 'row' },
        h('button', { type: 'submit' }, app.t('sendCode')),
        h('button', { type: 'button', class: 'link', onclick: () => go(signIn(app, go)) }, app.t('back')),
      ),
    ),
  );
  return box;
}

function resetWithCode(app: App, go: Go, email: string, devOtp?: string): Node {
  const box = card(
    app,
    app.t('resetTitle'),
    h('p', {}, app.t('codeSentTo', { email })),
    form(
      async (f) =>
        app.run(box, async () => {
          await app.api.call('POST', '/reset/password', { body: { email, otp: value(f, 'otp'), new_password: value(f, 'password') } });
          app.flash = { text: app.t('resetDone'), kind: 'ok' };
          go(signIn(app, go));
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
}
