/** What the console routes share: request metadata for audit and limits, the session answer, field schemas. */
import { z } from 'zod';
import { toPublicAccount, type AccountDoc } from '../../models/console/account.js';
import type { Session } from '../../models/console/account-flows.js';
import { toPublicAudit, recordAudit, type AuditWhat } from '../../models/console/audit.js';
import { ROLES, workspacesOf, type Role, type WorkspaceDoc } from '../../models/console/workspace.js';
import { DomainError } from '../../platform/errors.js';
import { PASSWORD_MAX, PASSWORD_MIN } from '../../platform/passwords.js';
import type { AppContext, AppDeps } from '../context.js';
import { workspaceId } from '../principals/console.js';
import type { PrincipalOf } from '../principals/types.js';
import { emailAddress } from '../schemas.js';

export const tags = {
  account: ['Console: account'],
  workspace: ['Console: workspaces and members'],
  tenants: ['Console: tenants'],
};

export const email = emailAddress;
export const password = z.string().min(PASSWORD_MIN, `must be at least ${PASSWORD_MIN} characters`).max(PASSWORD_MAX);
export const locale = z.enum(['fr', 'en']).default('fr');
export const otp = z.string().trim().min(6).max(32);
export const role = z.enum(ROLES);
export const wsQuery = z.object({ workspace_id: workspaceId() });

/** Where a request came from, for the audit log and the per-IP limits. */
export const metaOf = (ctx: AppContext) => ({ ip: ctx.ip || 'unknown', userAgent: ctx.get('user-agent') || null });

/**
 * The relay's public URL for links in mails: PUBLIC_BASE_URL, never the request's Host (a caller
 * picks that header: a link built from it could send an invitee's token to any host). Without it the
 * console refuses to mail links (503 NOT_CONFIGURED); `npm start` sets it for local development.
 */
export function baseUrlOf(deps: AppDeps): string {
  if (!deps.config.publicBaseUrl)
    throw new DomainError(
      'NOT_CONFIGURED',
      'Invitations are off: the relay has no PUBLIC_BASE_URL (its public https URL) to build the link from. Set it and restart.',
    );
  return deps.config.publicBaseUrl;
}

export const publicAccount = z.object({
  account_id: z.string(),
  email: z.string(),
  display_name: z.string(),
  locale: z.enum(['fr', 'en']),
  totp_enabled: z.boolean(),
  recovery_codes_left: z.number().int(),
  created_at: z.string(),
});

export const workspaceSummary = z.object({
  workspace_id: z.string(),
  name: z.string(),
  role,
  tenants: z.number().int(),
  members: z.number().int(),
});
export const summaryOf = (ws: WorkspaceDoc, r: Role) => ({
  workspace_id: ws._id,
  name: ws.name,
  role: r,
  tenants: ws.tenant_ids?.length ?? 0,
  members: ws.members?.length ?? 0,
});

export async function workspacesOut(account: AccountDoc) {
  return (await workspacesOf(account)).map(({ ws, role: r }) => summaryOf(ws, r));
}

export const sessionOut = z.object({
  console_token: z.string(),
  expires_at: z.string(),
  account: publicAccount,
  workspaces: z.array(workspaceSummary),
});

/** The console's wire types (what the browser console reads), derived from the schemas above. */
export type ConsoleRole = z.infer<typeof role>;
export type ConsoleAccount = z.infer<typeof publicAccount>;
export type WorkspaceSummary = z.infer<typeof workspaceSummary>;
export type ConsoleSession = z.infer<typeof sessionOut>;

export async function sessionData(s: Session): Promise<z.infer<typeof sessionOut>> {
  return {
    console_token: s.token,
    expires_at: s.expiresAt.toISOString(),
    account: toPublicAccount(s.account),
    workspaces: await workspacesOut(s.account),
  };
}

export const auditOut = z.object({
  seq: z.number().int(),
  at: z.string(),
  actor_id: z.string().nullable(),
  actor_email: z.string().nullable(),
  action: z.string(),
  target: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  ip: z.string().nullable(),
  user_agent: z.string().nullable(),
});
export { toPublicAudit };

/** Writes the workspace's audit entry for a change made by the principal. */
export function audit(ctx: AppContext, p: PrincipalOf['console'], workspace: string, what: AuditWhat): Promise<void> {
  const m = metaOf(ctx);
  return recordAudit(
    { workspaceId: workspace },
    { accountId: p.account._id, email: p.account.email, ip: m.ip, userAgent: m.userAgent },
    what,
  );
}

/**
 * A change and its audit entry, the entry first: a crash between the two leaves an entry for a
 * change that may not have happened, never a change without its entry. A change that fails after
 * the entry is written gets a second entry, `<action>.failed`, with the error's code.
 */
export async function audited<T>(
  ctx: AppContext,
  p: PrincipalOf['console'],
  workspace: string,
  what: AuditWhat,
  change: () => Promise<T>,
): Promise<T> {
  await audit(ctx, p, workspace, what);
  try {
    return await change();
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String((err as { code: unknown }).code) : 'INTERNAL_ERROR';
    await audit(ctx, p, workspace, { action: `${what.action}.failed`, target: what.target ?? null, details: { error: code } }).catch(
      () => undefined,
    );
    throw err;
  }
}
