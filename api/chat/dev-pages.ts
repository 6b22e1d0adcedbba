/**
 * Demo pages for local development (RELAY_DEV_PAGES=true, which `npm start` sets; never in
 * production): "open these two pages and chat with yourself".
 *
 *   /dev/widget   a shop page on this relay's own origin with the widget of a demo tenant
 *   /dev/inbox    mints a token for the demo tenant's operator and sends you to /inbox#token=…
 *
 * The demo tenant ("dev-demo") and its operator are created on first use, and the page's origin is
 * added to the tenant's allowed_origins (localhost and 127.0.0.1 both work). This file talks to the
 * models directly because it stands in for a tenant's own backend and admin; nothing here is
 * reachable unless the setting is on.
 */
import { randomBytes, scrypt } from 'node:crypto';
import { promisify } from 'node:util';
import { OperatorModel, type OperatorDoc } from '../../models/chat/operator.js';
import { upsertRelayUserLink } from '../../models/platform/relay-user-link.js';
import { TenantModel, type TenantDoc } from '../../models/platform/tenant.js';
import { newId, newTenantId, newTenantSecret, newWidgetPublicKey } from '../../platform/ids.js';
import { seal, sealedFor } from '../../platform/secret-box.js';
import type { AppContext, AppDeps } from '../context.js';
import { mintOperatorToken } from '../principals/operator.js';
import { escapeHtml, sendPage } from './pages.js';

const DEMO_TENANT = 'dev-demo';
const DEMO_OPERATOR = 'demo-operator@example.test';
const scryptAsync = promisify(scrypt);

async function demoTenant(deps: AppDeps, origin: string): Promise<TenantDoc> {
  const found = await TenantModel.findOne({ tenant_name: DEMO_TENANT }).lean<TenantDoc>();
  if (!found) {
    const tenantId = newTenantId();
    const doc = await TenantModel.create({
      _id: tenantId,
      tenant_name: DEMO_TENANT,
      branding_display_name: 'Boutique démo',
      branding_primary_color: '#0b6e4f',
      allowed_origins: [origin],
      secret: seal(deps.config.secretsMasterKey, newTenantSecret(), sealedFor.tenantSecret(tenantId)),
      widget_public_key: newWidgetPublicKey(),
    });
    return doc.toObject() as TenantDoc;
  }
  if (!(found.allowed_origins ?? []).includes(origin)) {
    await TenantModel.updateOne({ _id: found._id }, { $set: { allowed_origins: [...(found.allowed_origins ?? []), origin] } });
    await deps.tenants.bump(found._id);
  }
  return found;
}

async function demoOperator(tenantId: string): Promise<OperatorDoc> {
  const existing = await OperatorModel.findOne({ tenant_id: tenantId, email: DEMO_OPERATOR }).lean<OperatorDoc>();
  if (existing) return existing;
  const link = await upsertRelayUserLink(tenantId, DEMO_OPERATOR, 'operator', 'Camille (démo)');
  const salt = randomBytes(16);
  const hash = (await scryptAsync(randomBytes(32), salt, 32)) as Buffer;
  const created = await OperatorModel.create({
    _id: newId('op'),
    tenant_id: tenantId,
    email: DEMO_OPERATOR,
    display_name: 'Camille (démo)',
    routing_keys: [],
    role: 'agent',
    password_hash: `scrypt$${salt.toString('base64')}$${hash.toString('base64')}`,
    relay_user_linked_id: String(link._id),
  });
  return created.toObject() as unknown as OperatorDoc;
}

function widgetDemo(t: TenantDoc, lang: 'fr' | 'en'): string {
  const fr = lang === 'fr';
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${fr ? 'Boutique démo — widget Bloonio' : 'Demo shop — Bloonio widget'}</title>
<script src="/widget.js" data-tenant-id="${escapeHtml(t._id)}" data-widget-key="${escapeHtml(t.widget_public_key)}" data-mode="human" async></script>
</head>
<body>
<h1>${fr ? 'Boutique démo' : 'Demo shop'}</h1>
<p>${fr ? 'Une page hôte sur une origine autorisée : le bouton de chat est en bas à droite.' : 'A host page on an allowed origin: the chat button is at the bottom right.'}</p>
<p><a href="/dev/inbox" target="_blank" rel="noopener">${fr ? 'Ouvrir la boîte de réception de l’opérateur de démonstration' : 'Open the demo operator’s inbox'}</a>
 · <a href="/dev/widget?lang=${fr ? 'en' : 'fr'}">${fr ? 'English' : 'Français'}</a></p>
<p>${fr ? 'Tenant' : 'Tenant'} <code>${escapeHtml(t._id)}</code></p>
</body>
</html>
`;
}

/** Answers a /dev page; false when the path is not one of them. */
export async function devPage(ctx: AppContext, deps: AppDeps): Promise<boolean> {
  const origin = `${ctx.protocol}://${ctx.host}`; // this relay as the browser sees it (Koa 3: ctx.origin is the Origin header)
  if (ctx.path === '/dev' || ctx.path === '/dev/') {
    ctx.redirect('/dev/widget');
    return true;
  }
  if (ctx.path === '/dev/widget') {
    const t = await demoTenant(deps, origin);
    sendPage(ctx, widgetDemo(t, ctx.query.lang === 'en' ? 'en' : 'fr'));
    return true;
  }
  if (ctx.path === '/dev/inbox') {
    const t = await demoTenant(deps, origin);
    const op = await demoOperator(t._id);
    const { token } = mintOperatorToken(
      deps.config,
      op._id,
      { [t._id]: op.role },
      deps.config.chatOperatorTokenTtlSeconds,
      op.token_version ?? 0,
    );
    // The token travels in the fragment of the redirect: the browser keeps it, no server ever receives it.
    ctx.set('Cache-Control', 'no-store');
    ctx.redirect(`/inbox#token=${encodeURIComponent(token)}`);
    return true;
  }
  return false;
}
