/**
 * Chat visitors (docs/contract.md §3.1): a visitor token (platform/tokens.ts, purpose `visitor`, ~1 h) bound to
 * the tenant, the session, the widget key (its hash: rotating the key invalidates every token) and the
 * origin. One check serves the REST routes (`security: 'visitor' | 'visitor-refresh'`) and the widget
 * socket (api/chat/ws/), so both refuse exactly the same tokens:
 *   1. minted by us for a visitor (401), unexpired — or, to refresh it, expired for at most
 *      CHAT_VISITOR_REFRESH_GRACE_SECONDS (401);
 *   2. for the tenant the caller names, if it names one (403);
 *   3. the tenant exists (401) and is active (403); the widget key unchanged (401);
 *   4. the origin: the token's origin still allowed, and a browser's Origin header must be that
 *      origin; an origin-free token (minted by the backend for native SDKs) from a browser needs an
 *      allowed Origin (403);
 *   5. the session still alive (401);
 *   6. the token of the session's current generation (models/chat/visitor-generation.ts, Redis): a
 *      refreshed token is refused afterwards (401).
 */
import { createHash } from 'node:crypto';
import type { Middleware } from 'koa';
import { currentGeneration } from '../../models/chat/visitor-generation.js';
import { findSession, type VisitorSessionDoc } from '../../models/chat/visitor-session.js';
import type { TenantDoc } from '../../models/platform/tenant.js';
import type { TenantEntry } from '../../models/platform/tenant-store.js';
import type { Config } from '../../platform/config.js';
import { mintToken, verifyToken, type TokenClaims } from '../../platform/tokens.js';
import type { AppContext, AppDeps, AppState } from '../context.js';
import { ApiError, type ErrorCode } from '../errors.js';

export function widgetKeyHash(widgetKey: string): string {
  return createHash('sha256').update(widgetKey).digest('hex').slice(0, 32);
}

/** Origins a tenant accepts for its widget; compared exactly (scheme, host and port). */
export function originAllowed(tenant: TenantDoc, origin: string): boolean {
  return (tenant.allowed_origins ?? []).includes(origin);
}

/**
 * The origin rule of visitor routes: a claimed origin must be allowed, and a browser's Origin header
 * must agree with it; with nothing claimed, a browser's Origin must itself be allowed.
 */
export function originProblem(tenant: TenantDoc, claimed: string | null, header: string | undefined): string | null {
  if (claimed !== null && !originAllowed(tenant, claimed)) return "This origin is not in the tenant's allowed_origins.";
  if (header && claimed !== null && header !== claimed) return 'The Origin header does not match the origin of the session.';
  if (header && claimed === null && !originAllowed(tenant, header)) return "This origin is not in the tenant's allowed_origins.";
  return null;
}

export function mintVisitorToken(config: Config, claims: Omit<TokenClaims<'visitor'>, 'typ' | 'iat' | 'exp'>, ttlSeconds: number) {
  return mintToken(config.secretsMasterKey, 'visitor', claims, ttlSeconds);
}

export type VisitorCheck =
  | { ok: true; claims: TokenClaims<'visitor'>; session: VisitorSessionDoc; tenant: TenantEntry }
  | { ok: false; status: 401 | 403; code: ErrorCode; reason: string };

const refuse = (status: 401 | 403, code: ErrorCode, reason: string): VisitorCheck => ({ ok: false, status, code, reason });

export async function authenticateVisitor(
  deps: Pick<AppDeps, 'config' | 'tenants' | 'redis'>,
  token: string,
  opts: { originHeader: string | undefined; allowExpired: boolean; askedTenant?: string | null },
): Promise<VisitorCheck> {
  const read = verifyToken(deps.config.secretsMasterKey, 'visitor', token);
  if (!read) return refuse(401, 'INVALID_TOKEN', 'Invalid visitor token.');
  if (read.expired && !opts.allowExpired) return refuse(401, 'INVALID_TOKEN', 'The visitor token has expired; refresh it.');
  const c = read.claims;
  if (read.expired && (c.exp + deps.config.chatVisitorRefreshGraceSeconds) * 1000 <= Date.now())
    return refuse(401, 'INVALID_TOKEN', 'The visitor token expired too long ago to be refreshed: start a new session.');
  if (opts.askedTenant && opts.askedTenant !== c.tid) return refuse(403, 'FORBIDDEN', 'This token is not valid for this tenant.');
  const active = await deps.tenants.getActive(c.tid);
  if ('refused' in active)
    return active.refused === 'missing'
      ? refuse(401, 'INVALID_TOKEN', 'Invalid visitor token.')
      : refuse(403, 'TENANT_SUSPENDED', 'Inactive tenant: this tenant is suspended.');
  const tenant = active.entry;
  if (widgetKeyHash(tenant.tenant.widget_public_key) !== c.wkh)
    return refuse(401, 'INVALID_TOKEN', 'The widget key was rotated: start a new visitor session.');
  const origin = originProblem(tenant.tenant, c.org, opts.originHeader);
  if (origin) return refuse(403, 'ORIGIN_NOT_ALLOWED', origin);
  const session = await findSession(c.tid, c.sid);
  if (!session || session.expires_at.getTime() <= Date.now())
    return refuse(401, 'INVALID_TOKEN', 'This visitor session has ended: start a new one.');
  if ((c.gen ?? 0) !== (await currentGeneration(deps, c.tid, c.sid)))
    return refuse(401, 'INVALID_TOKEN', 'This visitor token was replaced by a refresh: use the newest one.');
  return { ok: true, claims: c, session, tenant };
}

export function bearer(ctx: AppContext): string {
  const m = /^Bearer\s+(\S+)$/i.exec(ctx.get('authorization'));
  if (!m?.[1]) throw new ApiError('INVALID_TOKEN', 'An Authorization: Bearer token is required.');
  return m[1];
}

/** `security: 'visitor'` (unexpired token) and `'visitor-refresh'` (expired accepted, to refresh it). */
export function visitorAuth(deps: AppDeps, opts: { allowExpired: boolean }): Middleware<AppState> {
  return async (ctx, next) => {
    const r = await authenticateVisitor(deps, bearer(ctx), {
      originHeader: ctx.get('origin') || undefined,
      allowExpired: opts.allowExpired,
    });
    if (!r.ok) throw new ApiError(r.code, r.reason);
    const { claims, session, tenant } = r;
    ctx.state.principal = opts.allowExpired
      ? { kind: 'visitor-refresh', claims, session, tenant }
      : { kind: 'visitor', claims, session, tenant };
    return next();
  };
}
