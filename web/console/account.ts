/**
 * The account's security page: the authenticator app (totp.ts), the password, the sessions (revoke
 * one) and the recent activity; and the screen for an account without a workspace.
 */
import { h } from '../shared/dom.js';
import type { App } from './app.js';
import { dateOf, field, form, input, show, value } from './forms.js';
import { totpCard } from './totp.js';

type SessionRow = { session_id: string; created_at: string; ip: string; user_agent: string | null; current: boolean };
type Entry = { at: string; action: string; ip: string | null; user_agent: string | null };

export async function securityView(app: App): Promise<Node> {
  await app.refreshSession();
  const a = app.account;
  const [{ sessions }, { entries }] = await Promise.all([
    app.api.call<{ sessions: SessionRow[] }>('GET', '/fetch/sessions'),
    app.api.call<{ entries: Entry[] }>('GET', '/fetch/activity', { query: { limit: 20 } }),
  ]);
  return h(
    'div',
    {},
    h('h1', {}, app.t('security')),
    h('p', {}, `${a?.display_name ?? ''} — ${a?.email ?? ''}`),
    totpCard(app),
    passwordCard(app),
    sessionsCard(app, sessions),
    activityCard(app, entries),
  );
}

function passwordCard(app: App): Node {
  const card = h('div', { class: 'card' }, h('h2', {}, app.t('changePassword')));
  card.append(
    form(
      async (f) =>
        app.run(card, async () => {
          await app.api.call('POST', '/change/password', {
            body: { current_password: value(f, 'current'), new_password: value(f, 'next') },
          });
          f.reset();
          show(card, app.t('passwordChanged'), 'ok');
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
  return card;
}

/** The account's signed-in sessions; any but this one can be ended. */
function sessionsCard(app: App, sessions: SessionRow[]): Node {
  const card = h('div', { class: 'card' }, h('h2', {}, app.t('sessions')));
  const revoke = (s: SessionRow) =>
    void app.run(card, async () => {
      await app.api.call('POST', '/revoke/session', { body: { session_id: s.session_id } });
      await app.render();
    });
  card.append(
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
                : h('button', { type: 'button', class: 'secondary', onclick: () => revoke(s) }, app.t('revoke')),
            ),
          ),
        ),
      ),
    ),
  );
  return card;
}

function activityCard(app: App, entries: Entry[]): Node {
  return h(
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
