/**
 * Members of the workspace and its invitations: the members table (role changes and removal for
 * admins; only an owner touches owners), leaving the workspace, and for admins the invitation form
 * and the pending invitations.
 */
import { h } from '../shared/dom.js';
import type { App } from './app.js';
import { dateOf, field, form, input, value } from './forms.js';
import type { Role } from './api.js';
import type { StringKey } from './strings.js';

type Member = { account_id: string; email: string; display_name: string; role: Role; joined_at: string };
type Invitation = { invitation_id: string; email: string; role: Role; expires_at: string };

/** The caller's power over the page, and where a failed action says so. */
type Ctx = { app: App; admin: boolean; owner: boolean; root: HTMLElement; reload: () => Promise<void> };

const q = (app: App) => ({ workspace_id: app.workspaceId ?? '' });
const roleName = (app: App, r: Role) => app.t(`role_${r}` as StringKey);

export async function membersView(app: App): Promise<Node> {
  const admin = app.can('admin');
  const { members } = await app.api.call<{ members: Member[] }>('GET', '/fetch/members', { query: q(app) });
  const invitations = admin
    ? (await app.api.call<{ invitations: Invitation[] }>('GET', '/fetch/invitations', { query: q(app) })).invitations
    : [];
  const root = h('div');
  const c: Ctx = { app, admin, owner: app.can('owner'), root, reload: () => app.render() };
  root.append(
    h('h1', {}, app.t('members')),
    h('div', { class: 'card' }, membersTable(c, members), h('div', { class: 'row' }, leaveButton(c))),
  );
  if (admin) root.append(invitationsCard(c, invitations));
  return root;
}

function membersTable(c: Ctx, members: Member[]): Node {
  const { app } = c;
  return h(
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
          h('td', { 'data-test': 'member-role' }, roleSelect(c, m)),
          h('td', {}, dateOf(m.joined_at, app.locale)),
          h('td', {}, removeButton(c, m)),
        ),
      ),
    ),
  );
}

/** The role, as a choice for those who may change it. Only an owner touches owners; an admin sets admin or member. */
function roleSelect({ app, admin, owner, root, reload }: Ctx, m: Member): Node | string {
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
}

function removeButton({ app, admin, owner, root, reload }: Ctx, m: Member): Node | null {
  if (!admin || m.account_id === app.account?.account_id || (m.role === 'owner' && !owner)) return null;
  const remove = () => {
    if (!window.confirm(app.t('confirmRemove', { email: m.email }))) return;
    void app.run(root, async () => {
      await app.api.call('POST', '/remove/member', { query: q(app), body: { account_id: m.account_id } });
      await reload();
    });
  };
  return h('button', { type: 'button', class: 'danger', onclick: remove }, app.t('remove'));
}

function leaveButton({ app, root, reload }: Ctx): Node {
  const leave = () => {
    if (!window.confirm(app.t('confirmLeave'))) return;
    void app.run(root, async () => {
      await app.api.call('POST', '/leave/workspace', { query: q(app) });
      await app.refreshSession();
      location.hash = '#/tenants';
      await reload();
    });
  };
  return h('button', { type: 'button', class: 'danger', onclick: leave }, app.t('leave'));
}

/** Admins: invite by email (an owner may invite owners), and the invitations not yet accepted. */
function invitationsCard(c: Ctx, invitations: Invitation[]): Node {
  const { app, owner, reload } = c;
  const card = h('div', { class: 'card' });
  const roles: Role[] = owner ? ['member', 'admin', 'owner'] : ['member', 'admin'];
  const invite = form(
    async (f) =>
      app.run(card, async () => {
        const r = await app.api.call<Invitation & { dev_invite_url?: string }>('POST', '/create/invitation', {
          query: q(app),
          body: { email: value(f, 'email'), role: value(f, 'role'), locale: app.locale },
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
  );
  card.append(
    h('h2', {}, app.t('invite')),
    invite,
    h('h2', {}, app.t('invitations')),
    invitations.length ? invitationsTable(c, card, invitations) : h('p', {}, app.t('noInvitations')),
  );
  return card;
}

function invitationsTable({ app, reload }: Ctx, card: HTMLElement, invitations: Invitation[]): Node {
  const revoke = (i: Invitation) =>
    void app.run(card, async () => {
      await app.api.call('POST', '/revoke/invitation', { query: q(app), body: { invitation_id: i.invitation_id } });
      await reload();
    });
  return h(
    'table',
    { 'data-test': 'invitations' },
    h('thead', {}, h('tr', {}, h('th', {}, app.t('email')), h('th', {}, app.t('role')), h('th', {}, app.t('expires')), h('th', {}, ''))),
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
          h('td', {}, h('button', { type: 'button', class: 'secondary', onclick: () => revoke(i) }, app.t('revoke'))),
        ),
      ),
    ),
  );
}
