/**
 * Console users (docs/contract.md §3.5): `Authorization: Bearer <console_token>`, a token (platform/tokens.ts,
 * purpose `console`, kind `tenant_admin`) naming the account and its session. In order:
 *   1. minted by us for the console and unexpired (401);
 *   2. its session record still lives in Redis (written at sign-in, deleted at logout, revocation,
 *      password change or reset, and removal from a workspace) and names the same account (401);
 *   3. the account exists and is active (401);
 *      Every use pushes the session's idle deadline back (CONSOLE_IDLE_TIMEOUT_SECONDS); an idle
 *      session's record is gone, so its token is refused like an ended one;
 *   4. on a route with a `consoleRole` (api/route.ts): the workspace named by `?workspace_id=` exists
 *      and the account is a member (404 otherwise: another team's workspace is indistinguishable from
 *      a missing one), with at least that role (403). This is the one place roles are checked.
 */
import type { Middleware } from 'koa';
import { z } from 'zod';
import { findAccount } from '../../models/console/account.js';
import { recentlyAuthenticated, touchSession } from '../../models/console/sessions.js';
import { findWorkspace, hasRole, memberOf } from '../../models/console/workspace.js';
import { verifyToken } from '../../platform/tokens.js';
import type { AppDeps, AppState } from '../context.js';
import { ApiError, notFound } from '../errors.js';
import type { PrincipalOf } from './types.js';
import { bearer } from './visitor.js';
import { provenTenantId, type TenantId } from '../../models/platform/tenant-id.js';
import { loadTenant } from '../../models/platform/tenant-lifecycle.js';

export const workspaceId = () => z.string().regex(/^ws_[0-9a-z]{26}$/, 'must be a workspace id (ws_…)');

export function consoleAuth(deps: AppDeps): Middleware<AppState> {
  return async (ctx, next) => {
    const read = verifyToken(deps.config.secretsMasterKey, 'console', bearer(ctx));
    if (!read || read.expired) throw new ApiError('INVALID_TOKEN', 'Invalid or expired console token; sign in again.');
    const session = await touchSession(deps, read.claims.sid);
    if (!session || session.account_id !== read.claims.sub)
      throw new ApiError('INVALID_TOKEN', 'This console session has ended; sign in again.');
    const account = await findAccount(read.claims.sub);
    if (account?.status !== 'active') throw new ApiError('INVALID_TOKEN', 'This console session has ended; sign in again.');
    let workspace: PrincipalOf['console']['workspace'] = null;
    const needed = ctx.state.consoleRole;
    if (needed) {
      const id = workspaceId().safeParse(ctx.query.workspace_id);
      if (!id.success)
        throw new ApiError('VALIDATION_FAILED', 'The request query string failed validation.', [
          'workspace_id: must be a workspace id (ws_…)',
        ]);
      const doc = await findWorkspace(id.data);
      const member = doc && memberOf(doc, account._id);
      if (!doc || !member) throw notFound('Workspace');
      if (!hasRole(member.role, needed))
        throw new ApiError('FORBIDDEN', `This needs the ${needed} role in this workspace; yours is ${member.role}.`, [
          `role: ${member.role}`,
          `needed: ${needed}`,
        ]);
      workspace = { doc, role: member.role };
    }
    ctx.state.principal = {
      kind: 'console',
      accountId: account._id,
      sessionId: read.claims.sid,
      account,
      workspace,
      authAt: session.auth_at ?? 0,
    };
    return next();
  };
}

/** The workspace of a route that declares a `consoleRole` (always set there: a missing one is a wiring bug). */
export function inWorkspace(p: PrincipalOf['console']): NonNullable<PrincipalOf['console']['workspace']> {
  if (!p.workspace) throw new Error('console route without consoleRole reads principal.workspace');
  return p.workspace;
}

/**
 * A tenant of the principal's workspace, proven: the tenant exists and the workspace owns it (the
 * lookup filters on both), else 404 like a missing one. The console's way to a TenantId, as the
 * tenant store is the signed routes' (models/platform/tenant-id.ts).
 */
export async function workspaceTenantId(p: PrincipalOf['console'], tenantId: string): Promise<TenantId> {
  const t = await loadTenant(tenantId, { workspaceId: inWorkspace(p).doc._id });
  return provenTenantId(t._id);
}

/**
 * Step-up (routes declaring `consoleStepUp`, enforced by the route table: api/route.ts): the session's
 * last password or TOTP must be within CONSOLE_STEP_UP_SECONDS, else 403 STEP_UP_REQUIRED (the
 * console asks for the password or a code, calls `console/reauthenticate`, and tries again).
 */
export function requireStepUp(deps: AppDeps, p: PrincipalOf['console']): void {
  if (!recentlyAuthenticated(deps.config, { auth_at: p.authAt }))
    throw new ApiError(
      'STEP_UP_REQUIRED',
      `This action needs your password or an authenticator code from the last ${Math.round(deps.config.consoleStepUpSeconds / 60) || 1} minute(s): re-authenticate (POST /api/v1/console/reauthenticate), then try again.`,
    );
}
