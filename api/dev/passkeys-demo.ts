/**
 * Development pages for passkeys, mounted only when RELAY_DEV_PAGES is true (`npm start` sets it;
 * production leaves it false) and answered only to loopback clients:
 *   GET  /dev/passkeys?tenant_id=tnt_…   the demo page (api/dev/passkeys-page.ts), a tenant's front end;
 *   POST /dev/passkeys/backend/{op}      the demo *backend*: it does what a tenant's backend does,
 *        sign the call with the tenant's secret (HMAC #1) and send it to the relay's own
 *        /relay/webauthn/* route over HTTP, so the demo exercises the real gate and routes.
 * Whoever reaches this can act as any tenant of the relay: that is why it is off by default and
 * loopback only.
 */
import Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { ApiError, notFound, validationError } from '../errors.js';
import { signedHeaders } from '../../platform/signing.js';
import type { AppDeps, AppState } from '../context.js';
import { PASSKEYS_DEMO_HTML } from './passkeys-page.js';

/** The demo backend's operations → the relay routes they call. */
const OPS: Record<string, string> = {
  'register-options': '/relay/webauthn/register/options',
  'register-verify': '/relay/webauthn/register/verify',
  'authenticate-options': '/relay/webauthn/authenticate/options',
  'authenticate-verify': '/relay/webauthn/authenticate/verify',
  'fetch-passkeys': '/relay/webauthn/fetch/passkeys',
  'rename-passkey': '/relay/webauthn/rename/passkey',
  'revoke-passkey': '/relay/webauthn/revoke/passkey',
};

const demoCall = z.object({
  tenant_id: z.string().regex(/^tnt_[0-9a-f]{24}$/, 'must be a tenant id (tnt_…)'),
  body: z.record(z.string(), z.unknown()),
});

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/** The socket's peer, not X-Forwarded-For: behind a proxy every client would look local. */
const loopbackOnly: Middleware<AppState> = async (ctx, next) => {
  if (!LOOPBACK.has(ctx.req.socket.remoteAddress ?? '')) throw new ApiError('ROUTE_NOT_FOUND', `No route ${ctx.method} ${ctx.path}.`);
  await next();
};

export function passkeysDemoRoutes(deps: AppDeps): Router<AppState> {
  const router = new Router<AppState>();
  router.get('/dev/passkeys', loopbackOnly, (ctx) => {
    ctx.type = 'html';
    ctx.body = PASSKEYS_DEMO_HTML;
  });
  router.post('/dev/passkeys/backend/:op', loopbackOnly, async (ctx) => {
    const path = OPS[ctx.params.op ?? ''];
    if (!path) throw notFound('Demo operation');
    const parsed = demoCall.safeParse(ctx.state.body ?? {});
    if (!parsed.success) throw validationError(parsed.error);
    // The tenant's current secret, as its backend holds it (load: fresh after a rotation).
    const entry = await deps.tenants.load(parsed.data.tenant_id);
    if (!entry) throw notFound('Tenant');
    const raw = JSON.stringify(parsed.data.body);
    // Back to this very server, through the HMAC gate like any tenant backend.
    const { localAddress, localPort } = ctx.req.socket;
    const host = localAddress?.includes(':') ? `[${localAddress}]` : localAddress;
    const answer = await fetch(`http://${host}:${localPort}/api/v1${path}`, {
      method: 'POST',
      headers: {
        ...signedHeaders(entry.tenant._id, entry.secrets[0] ?? '', raw),
        'Content-Type': 'application/json',
        'X-Request-Id': ctx.state.requestId, // one id in the logs for the page's call and the relay call
      },
      body: raw,
    });
    ctx.status = answer.status;
    ctx.body = await answer.json();
  });
  return router;
}
