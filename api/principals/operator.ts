/**
 * Chat operators (SPEC §3.3): an operator token (platform/tokens.ts, purpose `operator`) minted by the
 * tenant's backend, carrying `tids: {tenant_id: role}` for that tenant only. One check serves the REST
 * routes (`security: 'operator'`) and the operator socket:
 *   1. minted by us for an operator, unexpired (401);
 *   2. the tenant asked for (X-Bloonio-Tenant-Id / ?tenant_id=, or the token's only tenant) is one the
 *      token holds (403);
 *   3. that tenant exists and is active (403);
 *   4. the operator is still active in that tenant (401).
 */
import type { Middleware } from 'koa';
import { findOperator, type OperatorDoc } from '../../models/chat/operator.js';
import type { TenantEntry } from '../../models/platform/tenant-store.js';
import type { Config } from '../../platform/config.js';
import { mintToken, verifyToken } from '../../platform/tokens.js';
import type { AppDeps, AppState } from '../context.js';
import { ApiError } from '../errors.js';
import { bearer } from './visitor.js';

export type OperatorPrincipal = { operator: OperatorDoc; tenant: TenantEntry; role: string };
export type OperatorCheck = { ok: true; principal: OperatorPrincipal } | { ok: false; status: 401 | 403; reason: string };

export function mintOperatorToken(config: Config, operatorId: string, tids: Record<string, string>, ttlSeconds: number) {
  return mintToken(config.secretsMasterKey, 'operator', { sub: operatorId, tids }, ttlSeconds);
}

export async function authenticateOperator(
  deps: Pick<AppDeps, 'config' | 'tenants'>,
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
  const operator = await findOperator(tid, read.claims.sub);
  if (!operator || operator.status !== 'active') return { ok: false, status: 401, reason: 'operator not found or disabled' };
  return { ok: true, principal: { operator, tenant: active.entry, role: read.claims.tids[tid] ?? 'agent' } };
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
