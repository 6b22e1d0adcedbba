/** The account's security: TOTP (enrol with QR and key shown once, recovery codes once, remove), password, sessions, activity. */
import { clear, h } from '../shared/dom.js';
import type { App } from './app.js';
import { dateOf, field, form, input, secretBox, show, value } from './app.js';

type Enrolment = { secret: string; otpauth_url: string; qr_data_url: string };
type SessionRow = { session_id: string; created_at: string; ip: string; user_agent: string | null; current: boolean };
type Entry = { at: string; action: string; ip: string | null; user_agent: string | null };

export async function securityView(app: App): Promise<Node> {
  await app.refreshSession();
  const a = app.account;
  const root = h('div', {}, h('h1', {}, app.t('security')), h('p', {}, `${a?.display_name ?? ''} — ${a?.email ?? ''}`));
  const reload = () => app.render();

  const totp = h('div', { class: 'card', 'data-test': 'totp' }, h('h2', {}, app.t('totp')));
  if (a?.totp_enabled) {
    totp.append(
      h('p', {}, app.t('totpOn', { n: a.recovery_codes_left })),
      form(
        async (f) =>
          app.run(totp, async () => {
            await app.api.call('POST', '/remove/totp', { body: { password: value(f, 'password'), code: value(f, 'code') } });
            app.flash = { text: app.t('totpRemoved'), kind: 'ok' };
            await reload();
          }),
        h(
          'div',
          { class: 'grid' },
          field(app.t('password'), input('password', { type: 'password', autocomplete: 'current-password', required: true })),
          field(app.t('code'), input('code', { autocomplete: 'one-time-code', required: true })),
        ),
        h('div', { class: 'row' }, h('button', { type: 'submit', class: 'danger' }, app.t('totpRemove'))),
      ),
    );
  } else {
    const start = h('button', { type: 'button', 'data-test': 'totp-setup' }, app.t('totpSetup'));
    start.addEventListener(
      'click',
      () =>
        void app.run(totp, async () => {
          const e = await app.api.call<Enrolment>('POST', '/enrol/totp');
          clear(totp);
          totp.append(
            h('h2', {}, app.t('totp')),
            h('p', {}, app.t('totpScan')),
            h('img', { class: 'qr', src: e.qr_data_url, alt: 'QR code', 'data-test': 'totp-qr' }),
            h('label', {}, app.t('totpSecret')),
            secretBox(app, e.secret, 'totp-secret'),
            form(
              async (f) =>
                app.run(totp, async () => {
                  const r = await app.api.call<{ recovery_codes: string[] }>('POST', '/confirm/totp', { body: { code: value(f, 'code') } });
                  clear(totp);
                  const done = h('button', { type: 'button', disabled: true, onclick: () => void reload() }, app.t('continue'));
                  const check = h('input', { type: 'checkbox', id: 'saved-codes' });
                  check.addEventListener('change', () => (done.disabled = !check.checked));
                  totp.append(
                    h('h2', {}, app.t('recoveryTitle')),
                    h('p', {}, app.t('recoveryText')),
                    h('ol', { class: 'codes', 'data-test': 'recovery-codes' }, ...r.recovery_codes.map((c) => h('li', {}, c))),
                    h('div', { class: 'row' }, h('label', { for: 'saved-codes' }, check, app.t('savedCodes')), done),
                  );
                }),
              field(
                app.t('code'),
                input('code', { autocomplete: 'one-time-code', inputmode: 'numeric', required: true, 'data-test': 'totp-code' }),
              ),
              h('div', { class: 'row' }, h('button', { type: 'submit' }, app.t('totpConfirm'))),
            ),
          );
        }),
    );
    totp.append(h('p', {}, app.t('totpOff')), start);
  }

  const pw = h('div', { class: 'card' }, h('h2', {}, app.t('changePassword')));
  pw.append(
    form(
      async (f) =>
        app.run(pw, async () => {
          await app.api.call('POST', '/change/password', {
            body: { current_password: value(f, 'current'), new_password: value(f, 'next') },
          });
          (f as HTMLFormElement).reset();
          show(pw, app.t('passwordChanged'), 'ok');
        }),
      h(
        'div',
        { class: 'grid' },
        field(app.t('currentPassword'), input('current', { type: 'password', autocomplete: 'current-password', required: true })),
        field(
          app.t('newPassword'),
          input('next', { type: 'password', autocomplete: 'new-password', minlength: '10', required: true }),
          app.t('passwordHint'),
        ),
      ),
      h('div', { class: 'row' }, h('button', { type: 'submit' }, app.t('changePassword'))),
    ),
  );

  const [{ sessions }, { entries }] = await Promise.all([
    app.api.call<{ sessions: SessionRow[] }>('GET', '/fetch/sessions'),
    app.api.call<{ entries: Entry[] }>('GET', '/fetch/activity', { query: { limit: 20 } }),
  ]);
  const sess = h(
    'div',
    { class: 'card' },
    h('h2', {}, app.t('sessions')),
    h(
      'table',
      {},
      h(
        'tbody',
        {},
        ...sessions.map((s) =>
          h(
            'tr',
            {},
            h('td', {}, dateOf(s.created_at, app.locale)),
            h('td', {}, s.ip, h('div', { class: 'hint' }, s.user_agent ?? '')),
            h(
              'td',
              {},
              s.current
                ? h('span', { class: 'pill active' }, app.t('thisSession'))
                : h(
                    'button',
                    {
                      type: 'button',
                      class: 'secondary',
                      onclick: () =>
                        void app.run(sess, async () => {
                          await app.api.call('POST', '/revoke/session', { body: { session_id: s.session_id } });
                          await reload();
                        }),
                    },
                    app.t('revoke'),
                  ),
            ),
          ),
        ),
      ),
    ),
  );
  const act = h(
    'div',
    { class: 'card' },
    h('h2', {}, app.t('activity')),
    h(
      'table',
      {},
      h(
        'tbody',
        {},
        ...entries.map((e) =>
          h(
            'tr',
            {},
            h('td', {}, dateOf(e.at, app.locale)),
            h('td', {}, h('code', {}, e.action)),
            h('td', {}, e.ip ?? '', h('div', { class: 'hint' }, e.user_agent ?? '')),
          ),
        ),
      ),
    ),
  );
  root.append(totp, pw, sess, act);
  return root;
}

/** No workspace yet (every one left, or removed): create one. */
export function noWorkspaceView(app: App): Node {
  const box = h('div', { class: 'card' });
  box.append(
    h('p', {}, app.t('noWorkspace')),
    form(
      async (f) =>
        app.run(box, async () => {
          const ws = await app.api.call<{ workspace_id: string }>('POST', '/create/workspace', { body: { name: value(f, 'name') } });
          await app.refreshSession();
          app.selectWorkspace(ws.workspace_id);
        }),
      field(app.t('workspaceName'), input('name', { required: true })),
      h('div', { class: 'row' }, h('button', { type: 'submit' }, app.t('create'))),
    ),
  );
  return box;
}
