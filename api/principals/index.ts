/**
 * Who is calling: each route declares one security kind, and the route table (api/route.ts) runs that
 * kind's middleware before the handler. The middleware authenticates the caller and puts a typed
 * principal on `ctx.state.principal`; the handler receives it as `principal`, already narrowed to its
 * route's kind. No handler checks authentication itself.
 */
import type { Middleware } from 'koa';
import type { AppDeps, AppState } from '../context.js';
import { adminAuth } from './admin.js';
import { consoleAuth } from './console.js';
import { deviceAuth } from './device.js';
import { hmacAuth } from './hmac.js';
import { operatorAuth } from './operator.js';
import { pairingProofAuth } from './pairing-proof.js';
import type { Security } from './types.js';
import { visitorAuth } from './visitor.js';

export { SECURITY_KINDS, type Principal, type PrincipalOf, type Security } from './types.js';

/** One middleware per kind, built once per app from the process's dependencies. */
export function principalMiddlewares(deps: AppDeps): Record<Security, Middleware<AppState>> {
  return {
    admin: adminAuth(deps.config.adminApiKeys),
    hmac: hmacAuth(deps),
    device: deviceAuth(deps),
    'pairing-proof': pairingProofAuth(deps),
    operator: operatorAuth(deps),
    visitor: visitorAuth(deps, { allowExpired: false }),
    'visitor-refresh': visitorAuth(deps, { allowExpired: true }),
    console: consoleAuth(deps),
    none: async (ctx, next) => {
      ctx.state.principal = { kind: 'none' };
      return next();
    },
  };
}
