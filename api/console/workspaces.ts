/**
 * A workspace's members, invitations and audit log. Every route names its workspace with
 * `?workspace_id=` and declares the least role it needs (`consoleRole`, checked by the console
 * principal); the rules between roles (only an owner touches owners, the last owner stays) are the
 * workspace model's (models/console/workspace.ts). The README's roles table lists them all.
 */
import { z } from 'zod';
import { readAudit } from '../../models/console/audit.js';
import { createInvitation, revokeInvitation } from '../../models/console/invitations.js';
import { endAllSessions } from '../../models/console/sessions.js';
import { removeMember, renameWorkspace, setMemberRole, type Invitation, type Member } from '../../models/console/workspace.js';
import { inWorkspace } from '../principals/console.js';
import { defineRoute, q } from '../route.js';
import {
  audit,
  audited,
  auditOut,
  baseUrlOf,
  email,
  locale,
  role,
  summaryOf,
  tags,
  toPublicAudit,
  workspaceSummary,
  wsQuery,
} from './common.js';

const t = tags.workspace;
const accountId = z.string().regex(/^acc_[0-9a-f]{32}$/, 'must be an account id (acc_…)');

const memberOut = z.object({ account_id: z.string(), email: z.string(), display_name: z.string(), role, joined_at: z.string() });
const toMember = (m: Member) => ({
  account_id: m.account_id,
  email: m.email,
  display_name: m.display_name,
  role: m.role,
  joined_at: m.joined_at.toISOString(),
});
const invitationOut = z.object({
  invitation_id: z.string(),
  email: z.string(),
  role,
  expires_at: z.string(),
  invited_by: z.string(),
  created_at: z.string(),
});
const toInvitation = (i: Invitation) => ({
  invitation_id: i.invitation_id,
  email: i.email,
  role: i.role,
  expires_at: i.expires_at.toISOString(),
  invited_by: i.invited_by,
  created_at: i.created_at.toISOString(),
});

export const fetchWorkspaceRoute = defineRoute({
  method: 'get',
  path: '/console/fetch/workspace',
  summary: 'A workspace, with your role in it',
  tags: t,
  security: 'console',
  consoleRole: 'member',
  query: wsQuery,
  response: workspaceSummary,
  handler: async (_ctx, { principal }) => {
    const w = inWorkspace(principal);
    return { message: 'Workspace found.', data: summaryOf(w.doc, w.role) };
  },
});

export const updateWorkspaceRoute = defineRoute({
  method: 'post',
  path: '/console/update/workspace',
  summary: 'Rename a workspace',
  tags: t,
  security: 'console',
  consoleRole: 'owner',
  query: wsQuery,
  body: z.object({ name: z.string().trim().min(1).max(120) }).strict(),
  response: workspaceSummary,
  handler: async (ctx, { body, principal }) => {
    const w = inWorkspace(principal);
    const ws = await audited(
      ctx,
      principal,
      w.doc._id,
      { action: 'workspace.renamed', target: w.doc._id, details: { from: w.doc.name, to: body.name } },
      () => renameWorkspace(w.doc._id, body.name),
    );
    return { message: 'Workspace renamed.', data: summaryOf(ws, w.role) };
  },
});

export const fetchMembersRoute = defineRoute({
  method: 'get',
  path: '/console/fetch/members',
  summary: 'The members of a workspace and their roles',
  tags: t,
  security: 'console',
  consoleRole: 'member',
  query: wsQuery,
  response: z.object({ members: z.array(memberOut) }),
  handler: async (_ctx, { principal }) => {
    const members = (inWorkspace(principal).doc.members as Member[]).map(toMember);
    return { message: `${members.length} member(s).`, data: { members } };
  },
});

export const updateMemberRoleRoute = defineRoute({
  method: 'post',
  path: '/console/update/member-role',
  summary: "Change a member's role",
  description:
    'Admins set admin or member; only an owner gives or takes the owner role. The last owner keeps it (409). Giving the owner role needs a recent password or TOTP code.',
  tags: t,
  security: 'console',
  consoleRole: 'admin',
  query: wsQuery,
  body: z.object({ account_id: accountId, role }).strict(),
  response: memberOut,
  errors: [404, 409],
  consoleStepUp: (b) => b.role === 'owner',
  handler: async (ctx, { body, principal }) => {
    const w = inWorkspace(principal);
    const before = (w.doc.members as Member[]).find((m) => m.account_id === body.account_id);
    const ws = await audited(
      ctx,
      principal,
      w.doc._id,
      {
        action: 'member.role_changed',
        target: body.account_id,
        details: { email: before?.email ?? null, from: before?.role ?? null, to: body.role },
      },
      () => setMemberRole(w.doc._id, body.account_id, body.role, w.role),
    );
    const m = (ws.members as Member[]).find((x) => x.account_id === body.account_id) as Member;
    return { message: 'Role changed.', data: toMember(m) };
  },
});

export const removeMemberRoute = defineRoute({
  method: 'post',
  path: '/console/remove/member',
  summary: 'Remove a member from the workspace (their sessions end)',
  description:
    'Admins remove admins and members; only an owner removes an owner; the last owner cannot be removed (409). Every session of the removed account ends at once, so nothing it had loaded stays usable.',
  tags: t,
  security: 'console',
  consoleRole: 'admin',
  query: wsQuery,
  body: z.object({ account_id: accountId }).strict(),
  response: z.object({ removed: z.literal(true), sessions_ended: z.number().int() }),
  errors: [404, 409],
  handler: async (ctx, { body, deps, principal }) => {
    const w = inWorkspace(principal);
    const gone = (w.doc.members as Member[]).find((m) => m.account_id === body.account_id);
    await audited(
      ctx,
      principal,
      w.doc._id,
      { action: 'member.removed', target: body.account_id, details: { email: gone?.email ?? null, role: gone?.role ?? null } },
      () => removeMember(w.doc._id, body.account_id, w.role),
    );
    const ended = await endAllSessions(deps, body.account_id);
    return { message: 'Member removed.', data: { removed: true as const, sessions_ended: ended } };
  },
});

export const leaveWorkspaceRoute = defineRoute({
  method: 'post',
  path: '/console/leave/workspace',
  summary: 'Leave a workspace',
  description: 'The last owner cannot leave (409): make another member owner first.',
  tags: t,
  security: 'console',
  consoleRole: 'member',
  query: wsQuery,
  response: z.object({ left: z.literal(true) }),
  errors: [409],
  handler: async (ctx, { principal }) => {
    const w = inWorkspace(principal);
    await removeMember(w.doc._id, principal.accountId, 'self');
    await audit(ctx, principal, w.doc._id, { action: 'member.left', target: principal.accountId, details: { role: w.role } });
    return { message: `You left ${w.doc.name}.`, data: { left: true as const } };
  },
});

export const createInvitationRoute = defineRoute({
  method: 'post',
  path: '/console/create/invitation',
  summary: 'Invite someone by email',
  description:
    'Mails a link that works once, for that address only, until it expires (CONSOLE_INVITATION_TTL_SECONDS, 7 days). Inviting the same address again replaces the link. Admins invite admins and members; only an owner invites an owner, with a recent password or TOTP code. Needs PUBLIC_BASE_URL (503 NOT_CONFIGURED without it): a link is never built from the request.',
  tags: t,
  security: 'console',
  consoleRole: 'admin',
  query: wsQuery,
  body: z.object({ email, role: role.default('member'), locale }).strict(),
  response: invitationOut.extend({ dev_invite_url: z.string().optional().describe('Local development without SMTP only.') }),
  successStatus: 201,
  errors: [409, 503],
  // Inviting an owner hands over the whole workspace: a recent password or TOTP first.
  consoleStepUp: (b) => b.role === 'owner',
  handler: async (ctx, { body, deps, principal }) => {
    const w = inWorkspace(principal);
    const r = await createInvitation(
      deps,
      w.doc._id,
      { account: principal.account, role: w.role },
      body,
      baseUrlOf(deps),
      deps.config.consoleInvitationTtlSeconds,
    );
    await audit(ctx, principal, w.doc._id, {
      action: 'invitation.created',
      target: r.invitation.invitation_id,
      details: { email: r.invitation.email, role: r.invitation.role },
    });
    return {
      message: `Invitation sent to ${r.invitation.email}.`,
      data: { ...toInvitation(r.invitation), ...(r.devLink ? { dev_invite_url: r.devLink } : {}) },
    };
  },
});

export const fetchInvitationsRoute = defineRoute({
  method: 'get',
  path: '/console/fetch/invitations',
  summary: 'Pending invitations',
  tags: t,
  security: 'console',
  consoleRole: 'admin',
  query: wsQuery,
  response: z.object({ invitations: z.array(invitationOut) }),
  handler: async (_ctx, { principal }) => {
    const now = Date.now();
    const rows = (inWorkspace(principal).doc.invitations as Invitation[]).filter((i) => i.expires_at.getTime() > now).map(toInvitation);
    return { message: `${rows.length} pending invitation(s).`, data: { invitations: rows } };
  },
});

export const revokeInvitationRoute = defineRoute({
  method: 'post',
  path: '/console/revoke/invitation',
  summary: 'Revoke a pending invitation (its link stops working)',
  tags: t,
  security: 'console',
  consoleRole: 'admin',
  query: wsQuery,
  body: z.object({ invitation_id: z.string().startsWith('inv_').max(40) }).strict(),
  response: z.object({ revoked: z.literal(true) }),
  errors: [404],
  handler: async (ctx, { body, principal }) => {
    const w = inWorkspace(principal);
    const inv = await revokeInvitation(w.doc._id, body.invitation_id);
    await audit(ctx, principal, w.doc._id, { action: 'invitation.revoked', target: inv.invitation_id, details: { email: inv.email } });
    return { message: 'Invitation revoked.', data: { revoked: true as const } };
  },
});

export const fetchAuditLogRoute = defineRoute({
  method: 'get',
  path: '/console/fetch/audit-log',
  summary: "The workspace's audit log, newest first",
  description:
    'Every change made through the console: who (account and address), what, when, from where (IP and user agent). Page back with before=<seq of the oldest entry seen>.',
  tags: t,
  security: 'console',
  consoleRole: 'admin',
  query: wsQuery.extend({ limit: q.int(1, 200, 50), before: z.coerce.number().int().min(1).optional() }),
  response: z.object({ entries: z.array(auditOut) }),
  handler: async (_ctx, { query, principal }) => {
    const w = inWorkspace(principal);
    const rows = await readAudit(w.doc._id, w.doc.audit_seq ?? 0, query);
    return { message: `${rows.length} entr${rows.length === 1 ? 'y' : 'ies'}.`, data: { entries: rows.map(toPublicAudit) } };
  },
});

export const consoleWorkspaceRoutes = [
  fetchWorkspaceRoute,
  updateWorkspaceRoute,
  fetchMembersRoute,
  updateMemberRoleRoute,
  removeMemberRoute,
  leaveWorkspaceRoute,
  createInvitationRoute,
  fetchInvitationsRoute,
  revokeInvitationRoute,
  fetchAuditLogRoute,
];
