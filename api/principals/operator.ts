/**
 * Chat operators (docs/contract.md §3.3): an operator token (platform/tokens.ts, purpose `operator`) minted by the
 * tenant's backend, carrying `tids: {tenant_id: role}` for that tenant only. One check serves the REST
 * routes (`security: 'operator'`) and the operator socket:
 *   1. minted by us for an operator, unexpired (401);
 *   2. the tenant asked for (X-Bloonio-Tenant-Id / ?tenant_id=, or the token's only tenant) is one the
 *      token holds (403);
 *   3. that tenant exists and is active (403);
 *   4. the operator's hot record (models/chat/operator-record.ts, Redis) is active and holds the token's
 *      version (401): deprovisioning, or a change of role or routing keys, refuses every older token at
 *      once. The role and routing keys come from that record, never from the token.
 */
import type { Middleware } from 'koa';
import { readRecord, type OperatorRecord } from '../../models/chat/operator-record.js';
import type { TenantEntry } from '../../models/platform/tenant-store.js';
import type { Config } from '../../platform/config.js';
import { mintToken, verifyToken } from '../../platform/tokens.js';
import type { AppDeps, AppState } from '../context.js';
import { ApiError } from '../errors.js';
import { bearer } from './visitor.js';

/** `expiresAt`: when the token ends (ms), for the socket's expiry timer. */
export type OperatorPrincipal = { operator: OperatorRecord; tenant: TenantEntry; role: string; expiresAt: number };
export type OperatorCheck = { ok: true; principal: OperatorPrincipal } | { ok: false; status: 401 | 403; reason: string };

export function mintOperatorToken(config: Config, operatorId: string, tids: Record<string, string>, ttlSeconds: number, ver = 0) {
  return mintToken(config.secretsMasterKey, 'operator', { sub: operatorId, tids, ver }, ttlSeconds);
}

/** Rule 4 alone: the operator's record, when it is active and at this version (the socket checks it on every frame). */
export async function currentOperator(
  deps: Pick<AppDeps, 'config' | 'redis'>,
  tenantId: string,
  operatorId: string,
  ver: number,
): Promise<OperatorRecord | null> {
  const rec = await readRecord(deps, tenantId, operatorId);
  return rec && rec.status === 'active' && rec.v === ver ? rec : null;
}

export async function authenticateOperator(
  deps: Pick<AppDeps, 'config' | 'tenants' | 'redis'>,
  token: string,
  tenantId: string | undefined,
): Promise<OperatorCheck> {
  const read = verifyToken(deps.config.secretsMasterKey, 'operator', token);
  if (!read) return { ok: false, status: 401, reason: 'invalid operator token' };
  if (read.expired) return { ok: false, status: 401, reason: 'operator token expired' };
  const tids = Object.keys(read.claims.tids);
  const tid = tenantId ?? (tids.length === 1 ? tids[0] : undefined);
  if (!tid || !Object.hasOwn(read.claims.tids, tid)) return { ok: false, status: 403, reason: 'token not valid for this tenant' };
  const active = await deps.tenants.getActive(tid);
  if ('refused' in active) return { ok: false, status: 403, reason: active.refused === 'missing' ? 'tenant refused' : 'tenant suspended' };
  const operator = await currentOperator(deps, tid, read.claims.sub, read.claims.ver ?? 0);
  if (!operator) return { ok: false, status: 401, reason: 'operator disabled, changed or unknown: mint a new token' };
  return { ok: true, principal: { operator, tenant: active.entry, role: operator.role, expiresAt: read.claims.exp * 1000 } };
}

/** `security: 'operator'`: Bearer operator token; `X-Bloonio-Tenant-Id` optionally picks the tenant. */
export function operatorAuth(deps: AppDeps): Middleware<AppState> {
  return async (ctx, next) => {
    const r = await authenticateOperator(deps, bearer(ctx), ctx.get('x-bloonio-tenant-id') || undefined);
    if (!r.ok) throw new ApiError(r.status === 401 ? 'INVALID_TOKEN' : 'FORBIDDEN', `Operator token refused: ${r.reason}.`);
    ctx.state.principal = { kind: 'operator', ...r.principal };
    return next();
  };
}
