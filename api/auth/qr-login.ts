/** QR login, backend side (docs/contract.md §2.3): start a session for a browser origin, poll it. The device side is api/auth/device-qr.ts. */
import { z } from 'zod';
import { createQrSession, pollQrSession } from '../../models/auth/qr-login.js';
import { describeBrowser } from '../../platform/user-agent.js';
import { ApiError } from '../errors.js';
import { defineRoute } from '../route.js';
import { webOrigin } from '../schemas.js';
import { makeQrCode } from './qr-code.js';

const tags = ['Auth Relay: QR login'];

export const qrLoginInitiate = defineRoute({
  method: 'post',
  path: '/relay/qr-login/initiate',
  summary: 'Start a QR-login session for a browser',
  description:
    "Show `qr_code_str` as a QR code in the browser at `browser_origin`; a device paired with your tenant scans it, checks the relay's signature and approves or denies. Keep `poll_token` on your server and poll GET /relay/qr-login/poll with it; the code expires after QR_LOGIN_TTL_SECONDS.",
  docs: 'api.md#qr-login',
  tags,
  security: 'hmac',
  body: z
    .object({
      browser_origin: webOrigin,
      browser_user_agent: z
        .string()
        .max(1024)
        .optional()
        .describe('The User-Agent of the browser that will show the code (your backend saw it); only a coarse description is kept.'),
      number_matching: z
        .boolean()
        .default(false)
        .describe('Give a number for the browser to show; the device must pick it among three (opt-in).'),
    })
    .strict(),
  response: z.object({
    session_id: z.string(),
    poll_token: z.string(),
    qr_payload: z.record(z.string(), z.unknown()),
    qr_code_str: z.string(),
    signature: z.string(),
    expires: z.string(),
    browser: z.string().describe('What the device shows about the browser, e.g. "Chrome on Windows".'),
    match_number: z.string().nullable().describe('number_matching: the two digits to show beside the code; null otherwise.'),
  }),
  errors: {
    403: "ORIGIN_NOT_ALLOWED: browser_origin is not one of the tenant's qr_login_allowed_origins; FORBIDDEN: the list is empty (QR login is off)",
  },
  handler: async (_ctx, { body, deps, principal }) => {
    const tenant = principal.tenant.tenant;
    const allowed = tenant.qr_login_allowed_origins ?? [];
    if (!allowed.length) throw new ApiError('FORBIDDEN', 'QR login is off for this tenant: set qr_login_allowed_origins.');
    if (!allowed.includes(body.browser_origin))
      throw new ApiError('ORIGIN_NOT_ALLOWED', "This origin is not in the tenant's qr_login_allowed_origins.");
    const browser = describeBrowser(body.browser_user_agent);
    const s = await createQrSession(deps.redis, deps.config.queuePrefix, tenant._id, {
      origin: body.browser_origin,
      browser,
      numberMatching: body.number_matching,
      ttlSeconds: deps.config.qrLoginTtlSeconds,
    });
    const qr = makeQrCode(deps.config.secretsMasterKey, {
      sid: s.sessionId,
      tid: tenant._id,
      tenant_name: tenant.branding_display_name ?? tenant.tenant_name,
      origin: body.browser_origin,
      browser,
      ...(s.match ? { num_choices: s.match.choices } : {}),
      iat: Math.floor(Date.now() / 1000),
      exp: Math.floor(s.expiresAt.getTime() / 1000),
    });
    return {
      message: 'QR-login session created.',
      data: {
        session_id: s.sessionId,
        poll_token: s.pollToken,
        qr_payload: qr.payload,
        qr_code_str: qr.code,
        signature: qr.signature,
        expires: s.expiresAt.toISOString(),
        browser,
        match_number: s.match?.match ?? null,
      },
    };
  },
});

export const qrLoginPoll = defineRoute({
  method: 'get',
  path: '/relay/qr-login/poll',
  summary: 'Poll a QR-login session',
  description:
    'Header `X-QR-Poll-Token`: the poll_token of the session. 200 `pending` while nobody answered; 200 `approved` once, with the approving user (`backend_user_id`, `relay_user_linked_id`, `user_socket_hash`) — then 410; 200 `denied` once, then 410. 410 GONE for an expired or consumed session, and for a missing or wrong poll token (one answer for all).',
  tags,
  security: 'hmac',
  query: z.object({ session_id: z.string().min(10).max(64) }),
  response: z.object({
    session_id: z.string(),
    status: z.enum(['pending', 'approved', 'denied']),
    backend_user_id: z.string().nullable(),
    relay_user_linked_id: z.string().nullable(),
    user_socket_hash: z.string().nullable(),
    device_id: z.string().nullable(),
  }),
  errors: [410],
  handler: async (ctx, { query, deps, principal }) => {
    const p = await pollQrSession(
      deps.redis,
      deps.config.queuePrefix,
      principal.tenant.tenant._id,
      query.session_id,
      ctx.get('x-qr-poll-token'),
    );
    if (p.kind === 'gone') throw new ApiError('GONE', 'This QR-login session has expired or was already read, or the poll token is wrong.');
    const none = { backend_user_id: null, relay_user_linked_id: null, user_socket_hash: null, device_id: null };
    if (p.kind !== 'approved') return { message: `QR login ${p.kind}.`, data: { session_id: query.session_id, status: p.kind, ...none } };
    const s = p.session;
    return {
      message: 'QR login approved.',
      data: {
        session_id: s.session_id,
        status: 'approved' as const,
        backend_user_id: s.backend_user_id,
        relay_user_linked_id: s.relay_user_linked_id,
        user_socket_hash: s.user_socket_hash,
        device_id: s.device_id,
      },
    };
  },
});
