/**
 * Console accounts (docs/contract.md §3.5): registration with an emailed code, sign-in with a second factor,
 * password reset by email. Public routes (`security: 'none'`): the caller has no session yet. Each
 * answers the same for a known and an unknown address (models/console/account-flows.ts).
 * `dev_otp` / `dev_invite_url` appear only in local development without SMTP (models/console/mail.ts).
 */
import { z } from 'zod';
import {
  login,
  register,
  registerFromInvitation,
  requestPasswordReset,
  resendRegistrationCode,
  resetPassword,
  sendLoginCode,
  verifyLoginCode,
  verifyRegistration,
} from '../../models/console/account-flows.js';
import { findInvitation } from '../../models/console/invitations.js';
import { defineRoute } from '../route.js';
import { email, locale, metaOf, otp, password, role, sessionData, sessionOut, tags } from './common.js';
import { fieldRules } from '../schemas.js';

const codeSent = z.object({
  email: z.string(),
  code_sent: z.literal(true),
  expires_at: z.string(),
  dev_otp: z.string().optional().describe('Local development without SMTP only: the code that was (not) mailed.'),
});

const inviteToken = z.string().min(10).max(200);

export const registerRoute = defineRoute({
  method: 'post',
  path: '/console/register',
  summary: 'Register a console account',
  description:
    'Give organization_name to create your own workspace, or invite_token (from an invitation link, in this body: never in a URL) to join one. Either way: a pending account and a 6-digit code mailed to the address (valid 10 minutes, 5 attempts); finish with verify/registration, which activates the account and creates the workspace or accepts the invitation. An address that already has an account gets the same answer, and a mail saying so (with an invitation: 409, sign in and accept it). A registration waiting for its code keeps its password: registering the same address again only mails that code again.',
  tags: tags.account,
  security: 'none',
  body: z
    .object({
      email,
      password,
      display_name: z.string().trim().min(1).max(120),
      organization_name: z.string().trim().min(1).max(120).optional(),
      invite_token: inviteToken.optional(),
      locale,
    })
    .strict()
    .refine((b) => Boolean(b.organization_name) !== Boolean(b.invite_token), 'give either organization_name or invite_token')
    .meta(fieldRules.exactlyOne('organization_name', 'invite_token')),
  response: codeSent,
  successStatus: 202,
  errors: [403, 409, 410, 429],
  handler: async (ctx, { body, deps }) => {
    const meta = metaOf(ctx);
    const sent = body.invite_token
      ? await registerFromInvitation(deps, { ...body, invite_token: body.invite_token }, meta)
      : await register(deps, { ...body, organization_name: body.organization_name ?? '' }, meta);
    return {
      message: 'If this address can be registered, a verification code is on its way to it.',
      data: {
        email: body.email.trim().toLowerCase(),
        code_sent: true as const,
        expires_at: sent.expiresAt.toISOString(),
        ...(sent.devCode ? { dev_otp: sent.devCode } : {}),
      },
    };
  },
});

export const verifyRegistrationRoute = defineRoute({
  method: 'post',
  path: '/console/verify/registration',
  summary: 'Verify a registration with the emailed code',
  description:
    'Activates the account (and creates its workspace, or joins the workspace it was invited to) and signs it in. A wrong code is 401 INVALID_CODE; after 5 the registration is over (410 GONE); a late code 410 EXPIRED; a used one 410 GONE.',
  tags: tags.account,
  security: 'none',
  body: z.object({ email, otp }).strict(),
  response: sessionOut,
  successStatus: 201,
  errors: [401, 410, 429],
  handler: async (ctx, { body, deps }) => {
    const s = await verifyRegistration(deps, body.email, body.otp, metaOf(ctx));
    return { message: 'Address verified; you are signed in.', data: await sessionData(s) };
  },
});

export const resendRegistrationRoute = defineRoute({
  method: 'post',
  path: '/console/resend/registration-otp',
  summary: 'Send a new registration code',
  description: 'The previous code stops working. The same answer whether or not a registration waits for this address.',
  tags: tags.account,
  security: 'none',
  body: z.object({ email }).strict(),
  response: codeSent,
  successStatus: 202,
  errors: [429],
  handler: async (ctx, { body, deps }) => {
    const sent = await resendRegistrationCode(deps, body.email, metaOf(ctx));
    return {
      message: 'If a registration waits for this address, a new code is on its way to it.',
      data: {
        email: body.email.trim().toLowerCase(),
        code_sent: true as const,
        expires_at: sent.expiresAt.toISOString(),
        ...(sent.devCode ? { dev_otp: sent.devCode } : {}),
      },
    };
  },
});

const mfaOut = z.object({
  redirect_to_mfa: z.literal(true),
  challenge_token: z.string().describe('chl_…: give it to get/login-otp and verify/login-otp.'),
  mfa_factors: z.array(z.enum(['totp', 'email'])),
  expires_at: z.string(),
});

export const loginRoute = defineRoute({
  method: 'post',
  path: '/console/login',
  summary: 'Sign in: password, then a second factor',
  description:
    'A password alone never opens a console session (a session can rotate tenant secrets). The answer is always redirect_to_mfa with a challenge: mfa_factors is ["totp"] for an account with an authenticator app (a recovery code also works), else ["email"] (ask for the code with get/login-otp). Wrong address or password: 401 INVALID_CREDENTIALS, the same answer and the same time for both. Rate limited per address and per IP (429).',
  tags: tags.account,
  security: 'none',
  body: z.object({ email, password: z.string().min(1).max(256) }).strict(),
  response: mfaOut,
  errors: [401, 403, 429],
  handler: async (ctx, { body, deps }) => {
    const c = await login(deps, body.email, body.password, metaOf(ctx));
    return {
      message: c.factors.includes('totp')
        ? 'Password accepted; enter the code from your authenticator app.'
        : 'Password accepted; ask for a code by email.',
      data: {
        redirect_to_mfa: true as const,
        challenge_token: c.challengeToken,
        mfa_factors: c.factors,
        expires_at: c.expiresAt.toISOString(),
      },
    };
  },
});

export const getLoginOtpRoute = defineRoute({
  method: 'post',
  path: '/console/get/login-otp',
  summary: 'Ask for the second-factor code of a sign-in',
  description:
    'factor "email" mails a 6-digit code (valid 10 minutes; asking again replaces it); "totp" sends nothing (the app shows the code).',
  tags: tags.account,
  security: 'none',
  body: z.object({ challenge_token: z.string().startsWith('chl_').max(100), factor: z.enum(['totp', 'email']) }).strict(),
  response: z.object({ factor: z.enum(['totp', 'email']), code_sent: z.boolean(), expires_at: z.string(), dev_otp: z.string().optional() }),
  errors: [409, 410, 429],
  handler: async (ctx, { body, deps }) => {
    const r = await sendLoginCode(deps, body.challenge_token, body.factor, metaOf(ctx));
    return {
      message: r.sent ? 'A sign-in code is on its way to your address.' : 'Enter the code your authenticator app shows.',
      data: { factor: body.factor, code_sent: r.sent, expires_at: r.expiresAt.toISOString(), ...(r.devCode ? { dev_otp: r.devCode } : {}) },
    };
  },
});

export const verifyLoginOtpRoute = defineRoute({
  method: 'post',
  path: '/console/verify/login-otp',
  summary: 'Finish a sign-in with the TOTP code, a recovery code or the emailed code',
  description:
    'Codes work once. A wrong code is 401 INVALID_CODE; after 5 the sign-in is over (410 GONE: sign in again); a late emailed code is 410 EXPIRED.',
  tags: tags.account,
  security: 'none',
  body: z.object({ challenge_token: z.string().startsWith('chl_').max(100), otp }).strict(),
  response: sessionOut,
  successStatus: 201,
  errors: [401, 409, 410, 429],
  handler: async (ctx, { body, deps }) => {
    const s = await verifyLoginCode(deps, body.challenge_token, body.otp, metaOf(ctx));
    return { message: 'Signed in.', data: await sessionData(s) };
  },
});

export const requestResetRoute = defineRoute({
  method: 'post',
  path: '/console/request/password-reset',
  summary: 'Ask for a password reset code by email',
  description: 'The same answer whether or not the address has an account (an unknown address is mailed a note saying no account uses it).',
  tags: tags.account,
  security: 'none',
  body: z.object({ email, locale }).strict(),
  response: codeSent,
  successStatus: 202,
  errors: [429],
  handler: async (ctx, { body, deps }) => {
    const sent = await requestPasswordReset(deps, body.email, body.locale, metaOf(ctx));
    return {
      message: 'If this address has an account, a reset code is on its way to it.',
      data: {
        email: body.email.trim().toLowerCase(),
        code_sent: true as const,
        expires_at: sent.expiresAt.toISOString(),
        ...(sent.devCode ? { dev_otp: sent.devCode } : {}),
      },
    };
  },
});

export const resetPasswordRoute = defineRoute({
  method: 'post',
  path: '/console/reset/password',
  summary: 'Set a new password with the emailed reset code',
  description: 'Ends every session of the account. Signing in afterwards still takes the second factor.',
  tags: tags.account,
  security: 'none',
  body: z.object({ email, otp, new_password: password }).strict(),
  response: z.object({ reset: z.literal(true) }),
  errors: [401, 410, 429],
  handler: async (ctx, { body, deps }) => {
    await resetPassword(deps, body.email, body.otp, body.new_password, metaOf(ctx));
    return { message: 'Password changed; sign in with it.', data: { reset: true as const } };
  },
});

export const fetchInvitationRoute = defineRoute({
  method: 'post',
  path: '/console/fetch/invitation',
  summary: 'What an invitation link is for (before registering or signing in to accept it)',
  description:
    'The token travels in the body, never in a URL: the link carries it in its fragment (#invite=…), which browsers do not send, and the console page posts it here. Reading an invitation changes nothing.',
  tags: tags.account,
  security: 'none',
  body: z.object({ invite_token: inviteToken }).strict(),
  response: z.object({ workspace_name: z.string(), email: z.string(), role, expires_at: z.string() }),
  errors: [410],
  handler: async (_ctx, { body }) => {
    const { ws, inv } = await findInvitation(body.invite_token);
    return {
      message: 'Invitation found.',
      data: { workspace_name: ws.name, email: inv.email, role: inv.role, expires_at: inv.expires_at.toISOString() },
    };
  },
});

export const consolePublicRoutes = [
  registerRoute,
  verifyRegistrationRoute,
  resendRegistrationRoute,
  loginRoute,
  getLoginOtpRoute,
  verifyLoginOtpRoute,
  requestResetRoute,
  resetPasswordRoute,
  fetchInvitationRoute,
];
