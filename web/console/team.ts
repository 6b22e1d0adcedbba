/** Members and invitations of the workspace, and its audit log. */
import { h } from '../shared/dom.js';
import type { App } from './app.js';
import { dateOf, field, form, input, show, value } from './app.js';
import type { Role } from './api.js';
import type { StringKey } from './strings.js';

type Member = { account_id: string; email: string; display_name: string; role: Role; joined_at: string };
type Invitation = { invitation_id: string; email: string; role: Role; expires_at: string };
type Entry = {
  seq: number;
  at: string;
  actor_email: string | null;
  action: string;
  target: string | null;
  details: Record<string, unknown>;
  ip: string | null;
  user_agent: string | null;
};

const q = (app: App) => ({ workspace_id: app.workspaceId ?? '' });
const roleName = (app: App, r: Role) => app.t(`role_${r}` as StringKey);

export async function membersView(app: App): Promise<Node> {
  const root = h('div');
  const admin = app.can('admin');
  const owner = app.can('owner');
  const { members } = await app.api.call<{ members: Member[] }>('GET', '/fetch/members', { query: q(app) });
  const invitations = admin
    ? (await app.api.call<{ invitations: Invitation[] }>('GET', '/fetch/invitations', { query: q(app) })).invitations
    : [];
  const reload = () => app.render();
  const roleSelect = (m: Member) => {
    // Only an owner touches owners; an admin sets admin or member.
    if (!admin || (m.role === 'owner' && !owner)) return roleName(app, m.role);
    const s = h(
      'select',
      { 'aria-label': `${app.t('role')} ${m.email}` },
      ...(['owner', 'admin', 'member'] as Role[])
        .filter((r) => owner || r !== 'owner')
        .map((r) => h('option', { value: r, selected: r === m.role }, roleName(app, r))),
    );
    s.addEventListener(
      'change',
      () =>
        void app.run(root, async () => {
          await app.api.call('POST', '/update/member-role', { query: q(app), body: { account_id: m.account_id, role: s.value } });
          await reload();
        }),
    );
    return s;
  };
  const table = h(
    'table',
    { 'data-test': 'members' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, app.t('name')),
        h('th', {}, app.t('email')),
        h('th', {}, app.t('role')),
        h('th', {}, app.t('joined')),
        h('th', {}, ''),
      ),
    ),
    h(
      'tbody',
      {},
      ...members.map((m) =>
        h(
          'tr',
          {},
          h('td', {}, m.display_name),
          h('td', {}, m.email),
          h('td', { 'data-test': 'member-role' }, roleSelect(m)),
          h('td', {}, dateOf(m.joined_at, app.locale)),
          h(
            'td',
            {},
            admin && m.account_id !== app.account?.account_id && (m.role !== 'owner' || owner)
              ? h(
                  'button',
                  {
                    type: 'button',
                    class: 'danger',
                    onclick: () => {
                      if (!window.confirm(app.t('confirmRemove', { email: m.email }))) return;
                      void app.run(root, async () => {
                        await app.api.call('POST', '/remove/member', { query: q(app), body: { account_id: m.account_id } });
                        await reload();
                      });
                    },
                  },
                  app.t('remove'),
                )
              : null,
          ),
        ),
      ),
    ),
  );
  const leave = h(
    'button',
    {
      type: 'button',
      class: 'danger',
      onclick: () => {
        if (!window.confirm(app.t('confirmLeave'))) return;
        void app.run(root, async () => {
          await app.api.call('POST', '/leave/workspace', { query: q(app) });
          await app.refreshSession();
          location.hash = '#/tenants';
          await reload();
        });
      },
    },
    app.t('leave'),
  );
  root.append(h('h1', {}, app.t('members')), h('div', { class: 'card' }, table, h('div', { class: 'row' }, leave)));
  if (admin) {
    const invCard = h('div', { class: 'card' });
    const roles: Role[] = owner ? ['member', 'admin', 'owner'] : ['member', 'admin'];
    invCard.append(
      h('h2', {}, app.t('invite')),
      form(
        async (f) =>
          app.run(invCard, async () => {
            const email = value(f, 'email');
            const r = await app.api.call<Invitation & { dev_invite_url?: string }>('POST', '/create/invitation', {
              query: q(app),
              body: { email, role: value(f, 'role'), locale: app.locale },
            });
            app.flash = { text: app.t('inviteSent', { email: r.email }), kind: 'ok' };
            if (r.dev_invite_url) app.flash.text += ` — ${app.t('devLink')}: ${r.dev_invite_url}`;
            await reload();
          }),
        h(
          'div',
          { class: 'grid' },
          field(app.t('email'), input('email', { type: 'email', required: true })),
          field(app.t('role'), h('select', { name: 'role' }, ...roles.map((r) => h('option', { value: r }, roleName(app, r))))),
        ),
        h('div', { class: 'row' }, h('button', { type: 'submit' }, app.t('invite'))),
      ),
      h('h2', {}, app.t('invitations')),
      invitations.length
        ? h(
            'table',
            { 'data-test': 'invitations' },
            h(
              'thead',
              {},
              h('tr', {}, h('th', {}, app.t('email')), h('th', {}, app.t('role')), h('th', {}, app.t('expires')), h('th', {}, '')),
            ),
            h(
              'tbody',
              {},
              ...invitations.map((i) =>
                h(
                  'tr',
                  {},
                  h('td', {}, i.email),
                  h('td', {}, roleName(app, i.role)),
                  h('td', {}, dateOf(i.expires_at, app.locale)),
                  h(
                    'td',
                    {},
                    h(
                      'button',
                      {
                        type: 'button',
                        class: 'secondary',
                        onclick: () =>
                          void app.run(invCard, async () => {
                            await app.api.call('POST', '/revoke/invitation', { query: q(app), body: { invitation_id: i.invitation_id } });
                            await reload();
                          }),
                      },
                      app.t('revoke'),
                    ),
                  ),
                ),
              ),
            ),
          )
        : h('p', {}, app.t('noInvitations')),
    );
    root.append(invCard);
  }
  return root;
}

export async function auditView(app: App): Promise<Node> {
  const root = h('div', {}, h('h1', {}, app.t('audit')));
  const body = h('tbody');
  const more = h('button', { type: 'button', class: 'secondary' }, app.t('loadMore'));
  const card = h(
    'div',
    { class: 'card' },
    h(
      'table',
      { 'data-test': 'audit' },
      h(
        'thead',
        {},
        h('tr', {}, ...(['when', 'who', 'action', 'target', 'details', 'from'] as StringKey[]).map((k) => h('th', {}, app.t(k)))),
      ),
      body,
    ),
    h('div', { class: 'row' }, more),
  );
  let before: number | undefined;
  const page = async () => {
    const { entries } = await app.api.call<{ entries: Entry[] }>('GET', '/fetch/audit-log', { query: { ...q(app), limit: 50, before } });
    for (const e of entries)
      body.append(
        h(
          'tr',
          {},
          h('td', {}, dateOf(e.at, app.locale)),
          h('td', {}, e.actor_email ?? '—'),
          h('td', {}, h('code', {}, e.action)),
          h('td', {}, e.target ? h('code', {}, e.target) : '—'),
          h('td', {}, h('code', {}, Object.keys(e.details).length ? JSON.stringify(e.details) : '')),
          h('td', {}, e.ip ?? '', h('div', { class: 'hint' }, e.user_agent ?? '')),
        ),
      );
    before = entries.at(-1)?.seq;
    more.hidden = entries.length < 50;
    if (!body.children.length) show(card, app.t('noEntries'));
  };
  more.addEventListener('click', () => void app.run(card, page));
  await page();
  root.append(card);
  return root;
}
