/**
 * Tenants of the workspace: the list and a new tenant (its secret shown once, secret-once.ts); one
 * tenant's page is tenant-page.ts. Members see; admins and owners create (the relay enforces it too).
 */
import { clear, h } from '../shared/dom.js';
import type { App } from './app.js';
import { dateOf, field, form, input, lines, value } from './forms.js';
import type { Tenant } from './api.js';
import { secretOnce } from './secret-once.js';
import { statusPill } from './tenant-context.js';
import { tenantView } from './tenant-page.js';

const ws = (app: App) => app.workspaceId ?? '';

export async function tenantsView(app: App): Promise<Node> {
  const id = location.hash.split('/')[2];
  if (id) return tenantView(app, id);
  const root = h('div');
  const { tenants } = await app.api.call<{ tenants: Tenant[] }>('GET', '/fetch/tenants', { query: { workspace_id: ws(app) } });
  root.append(
    h('h1', {}, app.t('tenants')),
    h('div', { class: 'card' }, tenantsTable(app, tenants)),
    h('div', { class: 'card' }, app.can('admin') ? newTenantForm(app, root) : h('p', { class: 'hint' }, app.t('readOnly'))),
  );
  return root;
}

function tenantsTable(app: App, tenants: Tenant[]): Node {
  if (!tenants.length) return h('p', {}, app.t('noTenants'));
  return h(
    'table',
    { 'data-test': 'tenants' },
    h(
      'thead',
      {},
      h('tr', {}, h('th', {}, app.t('tenantName')), h('th', {}, app.t('id')), h('th', {}, app.t('status')), h('th', {}, app.t('created'))),
    ),
    h(
      'tbody',
      {},
      ...tenants.map((t) =>
        h(
          'tr',
          {},
          h('td', {}, h('a', { href: `#/tenants/${t.tenant_id}` }, t.tenant_name)),
          h('td', {}, h('code', {}, t.tenant_id)),
          h('td', {}, statusPill(app, t.status)),
          h('td', {}, dateOf(t.created_at, app.locale)),
        ),
      ),
    ),
  );
}

/** A new tenant; once created, the page shows its secret once, then the tenant's page. */
function newTenantForm(app: App, root: HTMLElement): Node {
  return form(
    async (f) =>
      app.run(root, async () => {
        const body: Record<string, unknown> = { tenant_name: value(f, 'name') };
        if (value(f, 'callback')) body.callback_url_base = value(f, 'callback');
        if (value(f, 'origins')) body.allowed_origins = lines(value(f, 'origins'));
        const r = await app.api.call<Tenant & { tenant_secret: string }>('POST', '/provision/tenant', {
          query: { workspace_id: ws(app) },
          body,
        });
        clear(root);
        root.appendChild(secretOnce(app, r, () => (location.hash = `#/tenants/${r.tenant_id}`)));
      }),
    h('h2', {}, app.t('newTenant')),
    h(
      'div',
      { class: 'grid' },
      field(app.t('tenantName'), input('name', { required: true })),
      field(app.t('callbackUrl'), input('callback', { type: 'url', placeholder: 'https://api.example.com' })),
    ),
    field(app.t('allowedOrigins'), h('textarea', { name: 'origins', placeholder: 'https://shop.example.com' })),
    h('div', { class: 'row' }, h('button', { type: 'submit' }, app.t('create'))),
  );
}
