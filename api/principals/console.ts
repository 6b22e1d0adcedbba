/**
 * Console users (SPEC §3.5): `Authorization: Bearer <console_token>`, a token (platform/tokens.ts,
 * purpose `console`, kind `tenant_admin`) naming the account and its session. A token only counts
 * while its session record lives in Redis (written at sign-in, deleted at logout or revocation), so a
 * session can be ended before the token expires.
 */
import type { Middleware } from 'koa';
import { redisKey } from '../../platform/keys.js';
import { verifyToken } from '../../platform/tokens.js';
import type { AppDeps, AppState } from '../context.js';
import { ApiError } from '../errors.js';
import { bearer } from './visitor.js';

export function consoleAuth(deps: AppDeps): Middleware<AppState> {
  return async (ctx, next) => {
    const read = verifyToken(deps.config.secretsMasterKey, 'console', bearer(ctx));
    if (!read || read.expired) throw new ApiError('INVALID_TOKEN', 'Invalid or expired console token; sign in again.');
    const live = await deps.redis.exists(redisKey.consoleSession(deps.config.queuePrefix, read.claims.sid));
    if (!live) throw new ApiError('INVALID_TOKEN', 'This console session has ended; sign in again.');
    ctx.state.principal = { kind: 'console', accountId: read.claims.sub, sessionId: read.claims.sid };
    return next();
  };
}
