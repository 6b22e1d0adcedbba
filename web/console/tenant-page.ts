/**
 * One tenant's console page (#/tenants/<id>): its head (name, status, suspend), then one card each
 * for settings (tenant-settings.ts), keys (tenant-keys.ts), operators (operators.ts), dead letters
 * and recent callbacks (deliveries.ts). Members see; admins and owners change (the relay enforces it
 * too). Each card is a function of what the page read and of `TenantPage` (tenant-context.ts).
 */
import { clear, h } from '../shared/dom.js';
import type { App } from './app.js';
import type { Tenant } from './api.js';
import { deadLettersCard, deliveriesCard, type Delivery } from './deliveries.js';
import { operatorsCard, type Operator } from './operators.js';
import { secretOnce } from './secret-once.js';
import { statusPill, type TenantPage } from './tenant-context.js';
import { keysCard } from './tenant-keys.js';
import { settingsCard } from './tenant-settings.js';

export async function tenantView(app: App, tenantId: string): Promise<Node> {
  const q = { workspace_id: app.workspaceId ?? '', tenant_id: tenantId };
  const root = h('div');
  const page: TenantPage = {
    app,
    q,
    admin: app.can('admin'),
    reload: () => app.render(),
    showSecret: (s) => {
      clear(root);
      root.appendChild(secretOnce(app, s, () => void app.render()));
    },
  };
  const [t, ops, deliveries, dead] = await Promise.all([
    app.api.call<Tenant>('GET', '/fetch/tenant', { query: q }),
    app.api.call<{ operators: Operator[] }>('GET', '/fetch/operators', { query: q }),
    app.api.call<{ deliveries: Delivery[] }>('GET', '/fetch/deliveries', { query: { ...q, limit: 20 } }),
    app.api.call<{ dead_letters: Delivery[] }>('GET', '/fetch/dead-letters', { query: { ...q, limit: 20 } }),
  ]);
  root.append(
    tenantHead(page, t, root),
    settingsCard(app, t, q, page.admin),
    keysCard(page, t),
    operatorsCard(app, q, ops.operators, page.admin, page.reload),
    deadLettersCard(page, dead.dead_letters),
    deliveriesCard(page, deliveries.deliveries),
  );
  return root;
}

/** Name, status, id, and (for admins) suspend or reactivate. */
function tenantHead({ app, q, admin, reload }: TenantPage, t: Tenant, root: HTMLElement): Node {
  const active = t.status === 'active';
  return h(
    'div',
    { class: 'row' },
    h('h1', { 'data-test': 'tenant-name' }, t.tenant_name),
    statusPill(app, t.status),
    h('code', {}, t.tenant_id),
    admin
      ? h(
          'button',
          {
            type: 'button',
            class: active ? 'danger' : 'secondary',
            onclick: () => {
              if (active && !window.confirm(app.t('confirmSuspend'))) return;
              void app.run(root, async () => {
                await app.api.call('POST', active ? '/suspend/tenant' : '/reactivate/tenant', { query: q });
                await reload();
              });
            },
          },
          active ? app.t('suspend') : app.t('reactivate'),
        )
      : null,
  );
}
