/**
 * CORS for the public chat routes the widget calls from a browser (SPEC §3.1). The preflight is
 * answered for any origin and the actual response echoes the caller's origin: no cookies are used
 * (Allow-Credentials is never sent) and each route checks the origin against the tenant's
 * `allowed_origins` itself, answering 403 when it is not allowed.
 */
import type { Middleware } from 'koa';
import type { AppState } from '../context.js';

export const CHAT_CORS_PATHS = new Set(['/api/v1/fetch/widget-config', '/api/v1/create/visitor-session', '/api/v1/refresh/visitor-token']);

export function chatCors(): Middleware<AppState> {
  return async (ctx, next) => {
    if (!CHAT_CORS_PATHS.has(ctx.path)) return next();
    const origin = ctx.get('origin');
    if (origin) {
      ctx.set('Access-Control-Allow-Origin', origin);
      ctx.vary('Origin');
      ctx.set('Access-Control-Expose-Headers', 'Retry-After, X-Request-Id');
    }
    if (ctx.method === 'OPTIONS') {
      ctx.set('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
      ctx.set('Access-Control-Allow-Headers', 'Content-Type, Authorization');
      ctx.set('Access-Control-Max-Age', '600');
      ctx.status = 204;
      return;
    }
    return next();
  };
}
