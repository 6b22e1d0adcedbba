/** The secret-once screen of the console: a tenant's new secret, shown once, nothing else until "I have saved it" is ticked. */
import { h } from '../shared/dom.js';
import type { App } from './app.js';
import { secretBox } from './forms.js';

export type NewSecret = { tenant_id: string; tenant_secret: string; widget_public_key?: string };

export function secretOnce(app: App, data: NewSecret, onDone: () => void): Node {
  const box = h('div', { class: 'card', 'data-test': 'secret-once' });
  const cont = h('button', { type: 'button', disabled: true, onclick: onDone }, app.t('continue'));
  const check = h('input', { type: 'checkbox', id: 'saved-secret' });
  check.addEventListener('change', () => (cont.disabled = !check.checked));
  box.append(
    h('h1', {}, app.t('secretOnceTitle')),
    h('p', {}, app.t('secretOnceText')),
    h('label', {}, app.t('id')),
    secretBox(app, data.tenant_id, 'tenant-id'),
    h('label', {}, app.t('secret')),
    secretBox(app, data.tenant_secret, 'tenant-secret'),
    ...(data.widget_public_key ? [h('label', {}, app.t('widgetKey')), secretBox(app, data.widget_public_key, 'widget-key')] : []),
    h(
      'pre',
      { class: 'mono' },
      `BLOONIO_RELAY_BASE_URL=${app.base}\nBLOONIO_RELAY_TENANT_ID=${data.tenant_id}\nBLOONIO_RELAY_TENANT_SECRET=${data.tenant_secret}`,
    ),
    h('div', { class: 'row' }, h('label', { for: 'saved-secret' }, check, app.t('savedIt')), cont),
  );
  return box;
}
