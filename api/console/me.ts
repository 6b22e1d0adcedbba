/**
 * The signed-in account (`security: 'console'`, no workspace): its session and sessions, password,
 * TOTP, activity log, invitations to accept, and new workspaces.
 */
import { z } from 'zod';
import { toPublicAccount } from '../../models/console/account.js';
import {
  changePassword,
  confirmTotpEnrolment,
  reauthenticate,
  removeTotp,
  startTotpEnrolment,
} from '../../models/console/account-flows.js';
import { readAudit, recordAudit } from '../../models/console/audit.js';
import { acceptInvitation } from '../../models/console/invitations.js';
import { endSession, listSessions } from '../../models/console/sessions.js';
import { findAccount } from '../../models/console/account.js';
import { quotaExceeded, underLock } from '../../models/console/limits.js';
import { createWorkspace, workspacesOf } from '../../models/console/workspace.js';
import { totpEnrolment } from '../../platform/totp.js';
import { defineRoute, q } from '../route.js';
import {
  auditOut,
  metaOf,
  otp,
  password,
  publicAccount,
  summaryOf,
  tags,
  toPublicAudit,
  workspaceSummary,
  workspacesOut,
} from './common.js';
import { notFound } from '../errors.js';
import { fieldRules } from '../schemas.js';

const t = tags.account;

export const fetchSessionRoute = defineRoute({
  method: 'get',
  path: '/console/fetch/session',
  summary: 'The signed-in account and its workspaces',
  tags: t,
  security: 'console',
  response: z.object({ session_id: z.string(), account: publicAccount, workspaces: z.array(workspaceSummary) }),
  handler: async (_ctx, { principal: p }) => ({
    message: 'Signed in.',
    data: { session_id: p.sessionId, account: toPublicAccount(p.account), workspaces: await workspacesOut(p.account) },
  }),
});

export const logoutRoute = defineRoute({
  method: 'post',
  path: '/console/logout',
  summary: 'Sign out: this session (its token) stops working at once',
  tags: t,
  security: 'console',
  response: z.object({ signed_out: z.literal(true) }),
  handler: async (ctx, { deps, principal: p }) => {
    await endSession(deps, p.accountId, p.sessionId);
    const m = metaOf(ctx);
    await recordAudit(
      { accountId: p.accountId },
      { accountId: p.accountId, email: p.account.email, ip: m.ip, userAgent: m.userAgent },
      {
        action: 'account.signed_out',
        target: p.sessionId,
      },
    );
    return { message: 'Signed out.', data: { signed_out: true as const } };
  },
});

const sessionRow = z.object({
  session_id: z.string(),
  created_at: z.string(),
  ip: z.string(),
  user_agent: z.string().nullable(),
  current: z.boolean(),
});

export const fetchSessionsRoute = defineRoute({
  method: 'get',
  path: '/console/fetch/sessions',
  summary: "The account's live sessions",
  tags: t,
  security: 'console',
  response: z.object({ sessions: z.array(sessionRow) }),
  handler: async (_ctx, { deps, principal: p }) => {
    const rows = await listSessions(deps, p.accountId);
    return {
      message: `${rows.length} session(s).`,
      data: {
        sessions: rows.map((s) => ({
          session_id: s.session_id,
          created_at: s.created_at,
          ip: s.ip,
          user_agent: s.user_agent,
          current: s.session_id === p.sessionId,
        })),
      },
    };
  },
});

export const revokeSessionRoute = defineRoute({
  method: 'post',
  path: '/console/revoke/session',
  summary: 'End one of the account’s sessions (e.g. a lost laptop)',
  tags: t,
  security: 'console',
  body: z.object({ session_id: z.string().startsWith('cs_').max(40) }).strict(),
  response: z.object({ revoked: z.literal(true) }),
  errors: [404],
  handler: async (ctx, { body, deps, principal: p }) => {
    if (!(await endSession(deps, p.accountId, body.session_id))) throw notFound('Session');
    const m = metaOf(ctx);
    await recordAudit(
      { accountId: p.accountId },
      { accountId: p.accountId, email: p.account.email, ip: m.ip, userAgent: m.userAgent },
      {
        action: 'account.session_revoked',
        target: body.session_id,
      },
    );
    return { message: 'Session ended.', data: { revoked: true as const } };
  },
});

export const changePasswordRoute = defineRoute({
  method: 'post',
  path: '/console/change/password',
  summary: 'Change the password (every other session ends)',
  tags: t,
  security: 'console',
  body: z.object({ current_password: z.string().min(1).max(256), new_password: password }).strict(),
  response: z.object({ changed: z.literal(true), other_sessions_ended: z.number().int() }),
  errors: [429],
  handler: async (ctx, { body, deps, principal: p }) => {
    const ended = await changePassword(deps, p.account, p.sessionId, body.current_password, body.new_password, metaOf(ctx));
    return { message: 'Password changed.', data: { changed: true as const, other_sessions_ended: ended } };
  },
});

export const reauthenticateRoute = defineRoute({
  method: 'post',
  path: '/console/reauthenticate',
  summary: 'Prove it is still you (password, or a TOTP or recovery code) before a sensitive action',
  description:
    'Give password, or code (an account with an authenticator app). For CONSOLE_STEP_UP_SECONDS (5 minutes) afterwards this session may rotate tenant secrets, change callback and bot URLs, and make owners; they answer 403 STEP_UP_REQUIRED otherwise. Limited like a sign-in.',
  tags: t,
  security: 'console',
  body: z
    .object({ password: z.string().min(1).max(256).optional(), code: otp.optional() })
    .strict()
    .refine((b) => (b.password === undefined) !== (b.code === undefined), 'give either password or code')
    .meta(fieldRules.exactlyOne('password', 'code')),
  response: z.object({ recent_auth_until: z.string() }),
  errors: [401, 409, 429],
  handler: async (ctx, { body, deps, principal: p }) => {
    const until = await reauthenticate(deps, p.account, p.sessionId, body, metaOf(ctx));
    return { message: 'Confirmed: you can go ahead.', data: { recent_auth_until: until.toISOString() } };
  },
});

export const enrolTotpRoute = defineRoute({
  method: 'post',
  path: '/console/enrol/totp',
  summary: 'Start TOTP enrolment: the secret, shown once, as text and QR code',
  description:
    'Scan the QR code (or type the secret) into an authenticator app, then confirm with its first code (confirm/totp) within 10 minutes.',
  tags: t,
  security: 'console',
  response: z.object({ secret: z.string(), otpauth_url: z.string(), qr_data_url: z.string(), expires_at: z.string() }),
  errors: [409],
  handler: async (_ctx, { deps, principal: p }) => {
    const { secret, expiresAt } = await startTotpEnrolment(deps, p.account);
    const e = await totpEnrolment(secret, p.account.email);
    return {
      message: 'Scan the code, then confirm with the first code the app shows. The secret will not be shown again.',
      data: { secret, otpauth_url: e.otpauthUrl, qr_data_url: e.qrDataUrl, expires_at: expiresAt.toISOString() },
    };
  },
});

export const confirmTotpRoute = defineRoute({
  method: 'post',
  path: '/console/confirm/totp',
  summary: 'Confirm TOTP enrolment with the first code; returns recovery codes (shown once)',
  description: 'From now on, sign-in takes a code from the app (or one of the recovery codes, each usable once). Other sessions end.',
  tags: t,
  security: 'console',
  body: z.object({ code: otp }).strict(),
  response: z.object({ totp_enabled: z.literal(true), recovery_codes: z.array(z.string()) }),
  successStatus: 201,
  errors: [401, 409, 410, 429],
  handler: async (ctx, { body, deps, principal: p }) => {
    const codes = await confirmTotpEnrolment(deps, p.account, p.sessionId, body.code, metaOf(ctx));
    return {
      message: 'TOTP is on. Save the recovery codes now — they will not be shown again.',
      data: { totp_enabled: true as const, recovery_codes: codes },
    };
  },
});

export const removeTotpRoute = defineRoute({
  method: 'post',
  path: '/console/remove/totp',
  summary: 'Turn TOTP off (the password and a current or recovery code)',
  tags: t,
  security: 'console',
  body: z.object({ password: z.string().min(1).max(256), code: otp }).strict(),
  response: z.object({ totp_enabled: z.literal(false) }),
  errors: [401, 409, 429],
  handler: async (ctx, { body, deps, principal: p }) => {
    await removeTotp(deps, p.account, body.password, body.code, metaOf(ctx));
    return { message: 'TOTP is off; sign-in takes a code by email again.', data: { totp_enabled: false as const } };
  },
});

export const fetchActivityRoute = defineRoute({
  method: 'get',
  path: '/console/fetch/activity',
  summary: "The account's own activity: sign-ins, password and TOTP changes, sessions ended",
  tags: t,
  security: 'console',
  query: z.object({ limit: q.int(1, 200, 50), before: z.coerce.number().int().min(1).optional() }),
  response: z.object({ entries: z.array(auditOut) }),
  handler: async (_ctx, { query, principal: p }) => {
    const rows = await readAudit(p.accountId, p.account.audit_seq ?? 0, query);
    return { message: `${rows.length} entr${rows.length === 1 ? 'y' : 'ies'}.`, data: { entries: rows.map(toPublicAudit) } };
  },
});

export const createWorkspaceRoute = defineRoute({
  method: 'post',
  path: '/console/create/workspace',
  summary: 'Create a workspace (you are its owner)',
  tags: tags.workspace,
  security: 'console',
  description:
    'An account owns at most CONSOLE_MAX_WORKSPACES_PER_ACCOUNT workspaces (5, counting the one made at registration); over it: 409 QUOTA_EXCEEDED.',
  body: z.object({ name: z.string().trim().min(1).max(120) }).strict(),
  response: workspaceSummary,
  successStatus: 201,
  errors: [409, 429],
  handler: async (ctx, { body, deps, principal: p }) => {
    const max = deps.config.consoleMaxWorkspacesPerAccount;
    const ws = await underLock(deps, `workspaces:${p.accountId}`, async () => {
      const fresh = (await findAccount(p.accountId)) ?? p.account;
      const owned = (await workspacesOf(fresh)).filter((x) => x.role === 'owner').length;
      if (owned >= max) throw quotaExceeded('Workspaces owned by one account', max, 'CONSOLE_MAX_WORKSPACES_PER_ACCOUNT');
      return createWorkspace(body.name, { accountId: p.accountId, email: p.account.email, displayName: p.account.display_name });
    });
    const m = metaOf(ctx);
    await recordAudit(
      { workspaceId: ws._id },
      { accountId: p.accountId, email: p.account.email, ip: m.ip, userAgent: m.userAgent },
      {
        action: 'workspace.created',
        target: ws._id,
        details: { name: ws.name },
      },
    );
    return { message: 'Workspace created.', data: summaryOf(ws, 'owner') };
  },
});

export const acceptInvitationRoute = defineRoute({
  method: 'post',
  path: '/console/accept/invitation',
  summary: 'Accept an invitation (for the signed-in address) and join its workspace',
  tags: tags.workspace,
  security: 'console',
  body: z.object({ invite_token: z.string().min(10).max(200) }).strict(),
  response: workspaceSummary,
  errors: [403, 410],
  handler: async (ctx, { body, principal: p }) => {
    const { ws, role } = await acceptInvitation(p.account, body.invite_token);
    const m = metaOf(ctx);
    await recordAudit(
      { workspaceId: ws._id },
      { accountId: p.accountId, email: p.account.email, ip: m.ip, userAgent: m.userAgent },
      {
        action: 'member.joined',
        target: p.accountId,
        details: { role, via: 'invitation' },
      },
    );
    return { message: `You joined ${ws.name}.`, data: summaryOf(ws, role) };
  },
});

export const consoleAccountRoutes = [
  fetchSessionRoute,
  logoutRoute,
  fetchSessionsRoute,
  revokeSessionRoute,
  changePasswordRoute,
  reauthenticateRoute,
  enrolTotpRoute,
  confirmTotpRoute,
  removeTotpRoute,
  fetchActivityRoute,
  createWorkspaceRoute,
  acceptInvitationRoute,
];
