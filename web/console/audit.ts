/** The workspace's audit log, 50 entries a page, newest first (admins and owners). Members and invitations: members.ts. */
import { h } from '../shared/dom.js';
import type { App } from './app.js';
import { dateOf, show } from './forms.js';
import type { StringKey } from './strings.js';

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
