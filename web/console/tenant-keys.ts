/** A tenant's keys card: the widget key, and for admins the rotation of the secret (with a grace period) and of the widget key. */
import { h } from '../shared/dom.js';
import { field } from './forms.js';
import type { Tenant } from './api.js';
import type { TenantPage } from './tenant-context.js';

export function keysCard({ app, q, admin, reload, showSecret }: TenantPage, t: Tenant): HTMLElement {
  const card = h(
    'div',
    { class: 'card' },
    h('h2', {}, app.t('keys')),
    h('label', {}, app.t('widgetKey')),
    h('p', {}, h('code', { 'data-test': 'widget-key' }, t.widget_public_key)),
  );
  if (!admin) return card;
  const grace = h(
    'select',
    { name: 'grace' },
    h('option', { value: '0' }, app.t('graceNone')),
    h('option', { value: '3600' }, app.t('grace1h')),
    h('option', { value: '86400' }, app.t('grace24h')),
  );
  const rotateSecret = () => {
    if (!window.confirm(app.t('confirmRotateSecret'))) return;
    void app.run(card, async () => {
      const r = await app.api.call<{ tenant_id: string; tenant_secret: string }>('POST', '/rotate/tenant-secret', {
        query: q,
        body: { grace_seconds: Number(grace.value) },
      });
      showSecret(r);
    });
  };
  const rotateWidget = () => {
    if (!window.confirm(app.t('confirmRotateWidget'))) return;
    void app.run(card, async () => {
      await app.api.call('POST', '/rotate/widget-key', { query: q });
      await reload();
    });
  };
  card.append(
    field(app.t('grace'), grace),
    h(
      'div',
      { class: 'row' },
      h('button', { type: 'button', class: 'secondary', onclick: rotateSecret }, app.t('rotateSecret')),
      h('button', { type: 'button', class: 'secondary', onclick: rotateWidget }, app.t('rotateWidget')),
    ),
  );
  return card;
}
