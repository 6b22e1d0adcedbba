/**
 * Chat Relay bearer tokens (SPEC §3.1, §3.3): compact HS256 JWTs signed with a key derived (HKDF)
 * from the current SECRETS_MASTER_KEY, so no new secret has to be configured. Signatures are compared
 * in constant time; a token is never logged.
 *
 * - Visitor token (~1 h): `{typ: 'visitor', tid, sid, wkh, org}`, bound to the tenant, the widget key
 *   (a hash of it, so rotating the widget key invalidates every visitor token) and the origin.
 * - Operator token: `{typ: 'operator', sub: op_…, tids: {tenant_id: role}}`, minted by the tenant's
 *   backend for the calling tenant only.
 */
import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { Config } from '../../platform/config.js';
import { ApiError } from '../../platform/errors.js';
import { findOperator, type OperatorDoc } from '../../models/chat/operator.js';
import type { TenantEntry } from '../../models/platform/tenant-store.js';
import type { AppContext, AppDeps } from '../context.js';

export type VisitorClaims = {
  typ: 'visitor';
  tid: string;
  sid: string;
  wkh: string;
  org: string | null;
  vuid?: string;
  iat: number;
  exp: number;
};
export type OperatorClaims = { typ: 'operator'; sub: string; tids: Record<string, string>; iat: number; exp: number };
export type Claims = VisitorClaims | OperatorClaims;

const keys = new WeakMap<Config, Buffer>();

function tokenKey(config: Config): Buffer {
  let key = keys.get(config);
  if (!key) {
    const master = config.secretsMasterKey.keys.get(config.secretsMasterKey.currentId);
    if (!master) throw new Error('current master key missing');
    key = Buffer.from(hkdfSync('sha256', master, 'bloonio-relay', 'chat-relay-tokens-v1', 32));
    keys.set(config, key);
  }
  return key;
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const HEADER = b64({ alg: 'HS256', typ: 'JWT' });

export function widgetKeyHash(widgetKey: string): string {
  return createHash('sha256').update(widgetKey).digest('hex').slice(0, 32);
}

type Unsigned<C> = C extends unknown ? Omit<C, 'iat' | 'exp'> : never;

export function mintToken(config: Config, claims: Unsigned<Claims>, ttlSeconds: number): { token: string; expiresAt: Date } {
  const iat = Math.floor(Date.now() / 1000);
  const exp = iat + ttlSeconds;
  const body = `${HEADER}.${b64({ ...claims, iat, exp })}`;
  const sig = createHmac('sha256', tokenKey(config)).update(body).digest('base64url');
  return { token: `${body}.${sig}`, expiresAt: new Date(exp * 1000) };
}

/** The claims of a token signed by us, with `expired` telling whether its lifetime is over; null when forged or malformed. */
export function readToken(config: Config, token: string): { claims: Claims; expired: boolean } | null {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== HEADER || token.length > 4096) return null;
  const expected = createHmac('sha256', tokenKey(config)).update(`${parts[0]}.${parts[1]}`).digest();
  const given = Buffer.from(parts[2] ?? '', 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  try {
    const claims = JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8')) as Claims;
    if (typeof claims.exp !== 'number' || (claims.typ !== 'visitor' && claims.typ !== 'operator')) return null;
    return { claims, expired: claims.exp * 1000 <= Date.now() };
  } catch {
    return null;
  }
}

export function bearer(ctx: AppContext): string {
  const h = ctx.get('authorization');
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  if (!m?.[1]) throw new ApiError('INVALID_TOKEN', 'An Authorization: Bearer token is required.');
  return m[1];
}

/** Origins a tenant accepts for its widget; compared exactly (scheme, host and port). */
export function originAllowed(tenant: TenantEntry['tenant'], origin: string): boolean {
  return (tenant.allowed_origins ?? []).includes(origin);
}

// ---------------------------------------------------------------------------------------------
// Operators
// ---------------------------------------------------------------------------------------------

export type OperatorPrincipal = { operator: OperatorDoc; tenant: TenantEntry; role: string };

export type OperatorAuthResult = { ok: true; principal: OperatorPrincipal } | { ok: false; status: 401 | 403; reason: string };

/**
 * Checks an operator token for one tenant: signature and lifetime (401), the tenant named in `tids`
 * (403 otherwise), tenant active (403), operator still active in that tenant (401).
 */
export async function authenticateOperator(deps: AppDeps, token: string, tenantId: string | undefined): Promise<OperatorAuthResult> {
  const read = readToken(deps.config, token);
  if (!read || read.claims.typ !== 'operator') return { ok: false, status: 401, reason: 'invalid operator token' };
  if (read.expired) return { ok: false, status: 401, reason: 'operator token expired' };
  const tids = Object.keys(read.claims.tids ?? {});
  const tid = tenantId ?? (tids.length === 1 ? tids[0] : undefined);
  if (!tid || !Object.hasOwn(read.claims.tids, tid)) return { ok: false, status: 403, reason: 'token not valid for this tenant' };
  const tenant = await deps.tenants.get(tid);
  if (!tenant) return { ok: false, status: 403, reason: 'tenant refused' };
  if (tenant.tenant.status !== 'active') return { ok: false, status: 403, reason: 'tenant suspended' };
  const operator = await findOperator(tid, read.claims.sub);
  if (!operator || operator.status !== 'active') return { ok: false, status: 401, reason: 'operator not found or disabled' };
  return { ok: true, principal: { operator, tenant, role: read.claims.tids[tid] ?? 'agent' } };
}

/** For `security: 'operator'` routes: Bearer operator token, optional `X-Bloonio-Tenant-Id` to pick the tenant. */
export async function requireOperator(ctx: AppContext, deps: AppDeps): Promise<OperatorPrincipal> {
  const result = await authenticateOperator(deps, bearer(ctx), ctx.get('x-bloonio-tenant-id') || undefined);
  if (!result.ok) throw new ApiError(result.status === 401 ? 'INVALID_TOKEN' : 'FORBIDDEN', `Operator token refused: ${result.reason}.`);
  return result.principal;
}
