/**
 * CORS for the chat routes a browser calls from a tenant's page (docs/contract.md §3.1, §3.5b):
 *
 * - the public visitor routes the widget calls (widget-config, visitor-session, refresh, socket-ticket);
 * - the operator routes (`/api/v1/operator/*`) the inbox calls when BloonioInbox.mount() runs on the
 *   tenant's own origin.
 *
 * The preflight is answered for any origin and the actual response echoes the caller's origin. No
 * cookies are involved anywhere (Allow-Credentials is never sent): the credential is a bearer token
 * the page holds (an operator token) or the route checks the origin against the tenant's
 * `allowed_origins` itself, answering 403 when it is not allowed (visitor routes). A page on another
 * origin without the token learns nothing it could not learn with curl.
 */
import type { Middleware } from 'koa';
import type { AppState } from '../context.js';

export const CHAT_CORS_PATHS = new Set([
  '/api/v1/fetch/widget-config',
  '/api/v1/create/visitor-session',
  '/api/v1/refresh/visitor-token',
  '/api/v1/create/socket-ticket',
]);
const OPERATOR_PREFIX = '/api/v1/operator/';

export function chatCors(): Middleware<AppState> {
  return async (ctx, next) => {
    const operator = ctx.path.startsWith(OPERATOR_PREFIX);
    if (!operator && !CHAT_CORS_PATHS.has(ctx.path)) return next();
    const origin = ctx.get('origin');
    if (origin) {
      ctx.set('Access-Control-Allow-Origin', origin);
      ctx.vary('Origin');
      ctx.set('Access-Control-Expose-Headers', 'Retry-After, X-Request-Id');
    }
    if (ctx.method === 'OPTIONS') {
      ctx.set('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
      ctx.set(
        'Access-Control-Allow-Headers',
        operator ? 'Authorization, Content-Type, X-Bloonio-Tenant-Id' : 'Content-Type, Authorization',
      );
      ctx.set('Access-Control-Max-Age', '600');
      ctx.status = 204;
      return;
    }
    return next();
  };
}
