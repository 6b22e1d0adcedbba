/**
 * The answer for a request no route took, by method (RFC 9110 §15.5.6, §15.6.2), in the envelope:
 *   - a path some route serves, with another method → 405 METHOD_NOT_ALLOWED and `Allow`
 *     (OPTIONS → 204 with `Allow`), for every method, including ones the relay never implements
 *     (TRACE, QUERY, …), so `/healthz` answers TRACE like any other path;
 *   - an unknown path with a method the relay never implements → 501 NOT_IMPLEMENTED;
 *   - otherwise the request middleware answers 404.
 * Replaces @koa/router's allowedMethods, whose `throw` mode drops the Allow header and whose 501 is
 * a bare HttpError. `ctx.matched` holds the layers of every router that matched the path.
 */
import type { Middleware } from 'koa';
import { ApiError } from '../errors.js';
import type { AppState } from '../context.js';

/** Methods some route of the relay may use; anything else is "not implemented" on an unknown path. */
const IMPLEMENTED = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

type Layer = { methods: string[]; path: unknown };

export function methodGuard(): Middleware<AppState> {
  return async (ctx, next) => {
    await next();
    if (ctx.status !== 404 || ctx.body !== undefined) return;
    const matched = ((ctx as unknown as { matched?: Layer[] }).matched ?? []).filter((l) => l.methods.length > 0);
    const allowed = [...new Set(matched.flatMap((l) => l.methods))];
    if (allowed.length > 0) {
      const template = matched.find((l) => typeof l.path === 'string')?.path;
      if (typeof template === 'string') ctx.state.routeTemplate = template;
      if (!allowed.includes('OPTIONS')) allowed.push('OPTIONS');
      const allow = allowed.join(', ');
      if (ctx.method === 'OPTIONS') {
        ctx.status = 204;
        ctx.set('Allow', allow);
        return;
      }
      throw new ApiError('METHOD_NOT_ALLOWED', `${ctx.method} is not allowed here; allowed: ${allow}.`, [], { Allow: allow });
    }
    if (!IMPLEMENTED.has(ctx.method)) {
      throw new ApiError('NOT_IMPLEMENTED', 'The relay does not implement this method.');
    }
  };
}
