/**
 * Demo pages for local development (RELAY_DEV_PAGES=true, which `npm start` sets; never in
 * production): "open these two pages and chat with yourself".
 *
 *   /dev/widget   a shop page on this relay's own origin with the widget of a demo tenant
 *   /dev/inbox    mints a token for the demo tenant's operator and sends you to /inbox#token=…
 *
 * The demo tenant ("dev-demo") and its operator are created on first use, and the page's origin is
 * added to the tenant's allowed_origins (localhost and 127.0.0.1 both work). It stands in for a
 * tenant's own backend and admin (models/chat/demo-data.ts); nothing here is reachable unless the
 * setting is on.
 */
import { demoOperator, demoTenant as loadDemoTenant } from '../../models/chat/demo-data.js';
import type { TenantDoc } from '../../models/platform/tenant.js';
import type { AppContext, AppDeps } from '../context.js';
import { mintOperatorToken } from '../principals/operator.js';
import { escapeHtml, sendPage } from './pages.js';

/** The demo tenant, allowing this page's origin: a newly added origin bumps the tenant so every process sees it. */
async function demoTenant(deps: AppDeps, origin: string) {
  const demo = await loadDemoTenant(deps.config.secretsMasterKey, origin);
  if (demo.originAdded) await deps.tenants.bump(demo.id);
  return demo;
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
    const { tenant } = await demoTenant(deps, origin);
    sendPage(ctx, widgetDemo(tenant, ctx.query.lang === 'en' ? 'en' : 'fr'));
    return true;
  }
  if (ctx.path === '/dev/inbox') {
    const t = await demoTenant(deps, origin);
    const op = await demoOperator(t.id);
    const { token } = mintOperatorToken(
      deps.config,
      op._id,
      { [t.id]: op.role },
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
