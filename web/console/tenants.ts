/**
 * Tenants of the workspace: the list, a new tenant (its secret shown once), and one tenant's page:
 * settings, keys (secret rotation with grace, widget key), suspension, operators (operators.ts), recent callbacks
 * and dead letters with replay. Members see; admins and owners change (the relay enforces it too).
 */
import { clear, h } from '../shared/dom.js';
import type { App } from './app.js';
import { dateOf, field, form, input, lines, secretBox, show, value } from './app.js';
import type { Tenant } from './api.js';
import { operatorsCard, type Operator } from './operators.js';
import type { StringKey } from './strings.js';

type Delivery = {
  delivery_id: string;
  event_type: string;
  status: string;
  attempt_count: number;
  created_at: string;
  dead_reason: string | null;
};

const ws = (app: App) => app.workspaceId ?? '';
const pill = (app: App, status: string) => h('span', { class: `pill ${status}` }, app.t(`status_${status}` as StringKey) || status);

/** The secret-once screen: nothing else on the page until "I have saved it" is ticked. */
function secretOnce(app: App, data: { tenant_id: string; tenant_secret: string; widget_public_key?: string }, onDone: () => void): Node {
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

export async function tenantsView(app: App): Promise<Node> {
  const id = location.hash.split('/')[2];
  if (id) return tenantView(app, id);
  const root = h('div');
  const { tenants } = await app.api.call<{ tenants: Tenant[] }>('GET', '/fetch/tenants', { query: { workspace_id: ws(app) } });
  const table = tenants.length
    ? h(
        'table',
        { 'data-test': 'tenants' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', {}, app.t('tenantName')),
            h('th', {}, app.t('id')),
            h('th', {}, app.t('status')),
            h('th', {}, app.t('created')),
          ),
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
              h('td', {}, pill(app, t.status)),
              h('td', {}, dateOf(t.created_at, app.locale)),
            ),
          ),
        ),
      )
    : h('p', {}, app.t('noTenants'));
  const create = app.can('admin')
    ? form(
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
      )
    : h('p', { class: 'hint' }, app.t('readOnly'));
  root.append(h('h1', {}, app.t('tenants')), h('div', { class: 'card' }, table), h('div', { class: 'card' }, create));
  return root;
}

async function tenantView(app: App, tenantId: string): Promise<Node> {
  const q = { workspace_id: ws(app), tenant_id: tenantId };
  const t = await app.api.call<Tenant>('GET', '/fetch/tenant', { query: q });
  const admin = app.can('admin');
  const root = h('div');
  const reload = () => app.render();
  const str = (k: string) => (t[k] as string | null) ?? '';
  const arr = (k: string) => ((t[k] as string[] | null) ?? []).join('\n');

  const settings = form(
    async (f) =>
      app.run(settingsCard, async () => {
        const nullable = (v: string) => v || null;
        // Where callbacks go is sent only when it changed: changing it asks for the password again (step-up).
        const changed = (k: string, v: string | null) => (v !== ((t[k] as string | null) ?? null) ? { [k]: v } : {});
        await app.api.call('POST', '/update/tenant', {
          query: q,
          body: {
            tenant_name: value(f, 'tenant_name'),
            ...changed('callback_url_base', nullable(value(f, 'callback_url_base'))),
            ...changed('sudo_callback_path', value(f, 'sudo_callback_path') || '/api/sudo-callback'),
            ...changed('bot_webhook_url', nullable(value(f, 'bot_webhook_url'))),
            branding_display_name: nullable(value(f, 'branding_display_name')),
            branding_logo_url: nullable(value(f, 'branding_logo_url')),
            branding_primary_color: nullable(value(f, 'branding_primary_color')),
            allowed_origins: lines(value(f, 'allowed_origins')),
            qr_login_allowed_origins: lines(value(f, 'qr_login_allowed_origins')),
            webauthn_rp_id: nullable(value(f, 'webauthn_rp_id')),
            webauthn_origins: lines(value(f, 'webauthn_origins')),
          },
        });
        show(settingsCard, app.t('saved'), 'ok');
      }),
    h(
      'div',
      { class: 'grid' },
      field(app.t('tenantName'), input('tenant_name', { value: t.tenant_name, required: true })),
      field(app.t('callbackUrl'), input('callback_url_base', { type: 'url', value: str('callback_url_base') })),
      field(app.t('sudoPath'), input('sudo_callback_path', { value: str('sudo_callback_path') })),
      field(app.t('botUrl'), input('bot_webhook_url', { type: 'url', value: str('bot_webhook_url') })),
      field(app.t('brandingName'), input('branding_display_name', { value: str('branding_display_name') })),
      field(app.t('brandingLogo'), input('branding_logo_url', { type: 'url', value: str('branding_logo_url') })),
      field(app.t('brandingColor'), input('branding_primary_color', { value: str('branding_primary_color'), pattern: '#[0-9a-fA-F]{6}' })),
      field(app.t('rpId'), input('webauthn_rp_id', { value: str('webauthn_rp_id') })),
      field(app.t('allowedOrigins'), h('textarea', { name: 'allowed_origins' }, arr('allowed_origins'))),
      field(app.t('qrOrigins'), h('textarea', { name: 'qr_login_allowed_origins' }, arr('qr_login_allowed_origins'))),
      field(app.t('rpOrigins'), h('textarea', { name: 'webauthn_origins' }, arr('webauthn_origins'))),
    ),
    admin ? h('div', { class: 'row' }, h('button', { type: 'submit' }, app.t('save'))) : h('p', { class: 'hint' }, app.t('readOnly')),
  );
  if (!admin) settings.querySelectorAll('input,textarea').forEach((el) => el.setAttribute('disabled', ''));
  const settingsCard = h('div', { class: 'card' }, h('h2', {}, app.t('settings')), settings);

  const keysCard = h(
    'div',
    { class: 'card' },
    h('h2', {}, app.t('keys')),
    h('label', {}, app.t('widgetKey')),
    h('p', {}, h('code', { 'data-test': 'widget-key' }, t.widget_public_key)),
  );
  if (admin) {
    const grace = h(
      'select',
      { name: 'grace' },
      h('option', { value: '0' }, app.t('graceNone')),
      h('option', { value: '3600' }, app.t('grace1h')),
      h('option', { value: '86400' }, app.t('grace24h')),
    );
    keysCard.append(
      field(app.t('grace'), grace),
      h(
        'div',
        { class: 'row' },
        h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            onclick: () => {
              if (!window.confirm(app.t('confirmRotateSecret'))) return;
              void app.run(keysCard, async () => {
                const r = await app.api.call<{ tenant_id: string; tenant_secret: string }>('POST', '/rotate/tenant-secret', {
                  query: q,
                  body: { grace_seconds: Number(grace.value) },
                });
                clear(root);
                root.appendChild(secretOnce(app, r, () => void reload()));
              });
            },
          },
          app.t('rotateSecret'),
        ),
        h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            onclick: () => {
              if (!window.confirm(app.t('confirmRotateWidget'))) return;
              void app.run(keysCard, async () => {
                await app.api.call('POST', '/rotate/widget-key', { query: q });
                await reload();
              });
            },
          },
          app.t('rotateWidget'),
        ),
      ),
    );
  }

  const head = h(
    'div',
    { class: 'row' },
    h('h1', { 'data-test': 'tenant-name' }, t.tenant_name),
    pill(app, t.status),
    h('code', {}, t.tenant_id),
    admin
      ? h(
          'button',
          {
            type: 'button',
            class: t.status === 'active' ? 'danger' : 'secondary',
            onclick: () => {
              if (t.status === 'active' && !window.confirm(app.t('confirmSuspend'))) return;
              void app.run(root, async () => {
                await app.api.call('POST', t.status === 'active' ? '/suspend/tenant' : '/reactivate/tenant', { query: q });
                await reload();
              });
            },
          },
          t.status === 'active' ? app.t('suspend') : app.t('reactivate'),
        )
      : null,
  );

  const [ops, deliveries, dead] = await Promise.all([
    app.api.call<{ operators: Operator[] }>('GET', '/fetch/operators', { query: q }),
    app.api.call<{ deliveries: Delivery[] }>('GET', '/fetch/deliveries', { query: { ...q, limit: 20 } }),
    app.api.call<{ dead_letters: Delivery[] }>('GET', '/fetch/dead-letters', { query: { ...q, limit: 20 } }),
  ]);
  const opsCard = operatorsCard(app, q, ops.operators, admin, reload);
  const deliveryTable = (rows: Delivery[], empty: StringKey, replay: boolean) =>
    rows.length
      ? h(
          'table',
          { 'data-test': replay ? 'dead-letters' : 'deliveries' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', {}, app.t('event')),
              h('th', {}, app.t('status')),
              h('th', {}, app.t('attempts')),
              h('th', {}, app.t('created')),
              replay && admin ? h('th', {}, '') : null,
            ),
          ),
          h(
            'tbody',
            {},
            ...rows.map((d) =>
              h(
                'tr',
                {},
                h('td', {}, d.event_type, h('br'), h('code', {}, d.delivery_id)),
                h(
                  'td',
                  {},
                  h('span', { class: `pill ${d.status}` }, d.status),
                  d.dead_reason ? h('div', { class: 'hint' }, d.dead_reason) : null,
                ),
                h('td', {}, String(d.attempt_count)),
                h('td', {}, dateOf(d.created_at, app.locale)),
                replay && admin
                  ? h(
                      'td',
                      {},
                      h(
                        'button',
                        { type: 'button', class: 'secondary', onclick: () => void replayIt({ delivery_id: d.delivery_id }) },
                        app.t('replay'),
                      ),
                    )
                  : null,
              ),
            ),
          ),
        )
      : h('p', {}, app.t(empty));
  const deadCard = h('div', { class: 'card' });
  const replayIt = (body: Record<string, string>) =>
    app.run(deadCard, async () => {
      const r = await app.api.call<{ replayed: number }>('POST', '/replay/dead-letters', { query: q, body });
      app.flash = { text: app.t('replayed', { n: r.replayed }), kind: 'ok' };
      await reload();
    });
  deadCard.append(
    h(
      'div',
      { class: 'row' },
      h('h2', {}, app.t('deadLetters')),
      admin && dead.dead_letters.length
        ? h(
            'button',
            { type: 'button', class: 'secondary', onclick: () => void replayIt({ from: '1970-01-01T00:00:00Z' }) },
            app.t('replayAll'),
          )
        : null,
    ),
    deliveryTable(dead.dead_letters, 'noDeadLetters', true),
  );
  const delCard = h(
    'div',
    { class: 'card' },
    h(
      'div',
      { class: 'row' },
      h('h2', {}, app.t('deliveries')),
      h('button', { type: 'button', class: 'secondary', onclick: () => void reload() }, app.t('refresh')),
    ),
    deliveryTable(deliveries.deliveries, 'noDeliveries', false),
  );
  root.append(head, settingsCard, keysCard, opsCard, deadCard, delCard);
  return root;
}
