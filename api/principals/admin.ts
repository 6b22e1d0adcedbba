/**
 * X-Admin-Key check (docs/contract.md §1.1). Several keys may be configured so they can rotate. Each candidate
 * is compared in constant time against every configured key, without stopping at the first match,
 * over SHA-256 digests so that key lengths do not leak either. The bull-board pages also accept the
 * key as the password of HTTP Basic auth, so ops can open them in a browser.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Middleware } from 'koa';
import { ApiError } from '../errors.js';
import type { AppState } from '../context.js';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export function adminKeyMatches(configured: string[], given: string): boolean {
  const g = digest(given);
  let ok = false;
  for (const key of configured) ok = timingSafeEqual(digest(key), g) || ok;
  return ok && given.length > 0;
}

export function adminAuth(keys: string[], opts: { allowBasic?: boolean } = {}): Middleware<AppState> {
  return async (ctx, next) => {
    let given = ctx.get('x-admin-key');
    if (!given && opts.allowBasic) {
      const m = /^Basic\s+(.+)$/i.exec(ctx.get('authorization'));
      if (m?.[1]) given = Buffer.from(m[1], 'base64').toString('utf8').split(':').slice(1).join(':');
    }
    if (!adminKeyMatches(keys, given)) {
      if (opts.allowBasic) ctx.set('WWW-Authenticate', 'Basic realm="Bloonio Relay ops", charset="UTF-8"');
      throw new ApiError('INVALID_ADMIN_KEY', given ? 'The admin key is not valid.' : 'The X-Admin-Key header is required.');
    }
    ctx.state.principal = { kind: 'admin' };
    return next();
  };
}
