/**
 * A tenant's settings card on its console page: name, where callbacks go, branding, widget and
 * passkey origins. Read-only for members. A change of where callbacks go is sent only when it
 * changed, because the relay asks for the password again (step-up) for it.
 */
import { h } from '../shared/dom.js';
import type { App } from './app.js';
import { field, form, input, lines, show, value } from './forms.js';
import type { Tenant } from './api.js';
import type { TenantQuery } from './tenant-context.js';

export function settingsCard(app: App, t: Tenant, q: TenantQuery, admin: boolean): HTMLElement {
  const str = (k: string) => (t[k] as string | null) ?? '';
  const arr = (k: string) => ((t[k] as string[] | null) ?? []).join('\n');
  const settings = form(
    async (f) =>
      app.run(card, async () => {
        const nullable = (v: string) => v || null;
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
        show(card, app.t('saved'), 'ok');
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
  const card = h('div', { class: 'card' }, h('h2', {}, app.t('settings')), settings);
  return card;
}
