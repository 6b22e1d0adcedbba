/**
 * One-time socket tickets (issue 20, "tokens in URLs"): a browser cannot set headers on a WebSocket,
 * so the socket's credential travels in its URL, where proxies and CDNs log it. Instead of the bearer
 * token (valid an hour for a visitor, up to days for an operator), the widget and the inbox put a
 * ticket there:
 *   POST /create/socket-ticket            (visitor token)  → a ticket for /api/v1/ws/widget
 *   POST /operator/create/socket-ticket   (operator token) → a ticket for /api/v1/ws/operator
 * A ticket is opaque and random, lives CHAT_WS_TICKET_TTL_SECONDS (30 s), is redeemed once (GETDEL),
 * only on its own socket, and only from the Origin the ticket was asked from (when it was asked with
 * one). Redis keeps it under its SHA-256, with the bearer token it stands for: redeeming it runs the
 * same check as `?token=` (api/principals/), so a token refused there is refused through a ticket too.
 * Neither the ticket nor the token is ever logged (upgrades bypass the request logger; no log line
 * here names either).
 */
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { redisKey } from '../../platform/keys.js';
import type { AppContext, AppDeps } from '../context.js';
import { bearer } from '../principals/visitor.js';
import { defineRoute, type ResponseData } from '../route.js';

export type SocketKind = 'visitor' | 'operator';
type Stored = { kind: SocketKind; token: string; origin: string | null; tenantId: string | null };

const hashOf = (ticket: string) => createHash('sha256').update(ticket).digest('hex');

async function issue(ctx: AppContext, deps: AppDeps, kind: SocketKind, tenantId: string | null) {
  const ticket = `wst_${randomBytes(24).toString('base64url')}`;
  const ttl = deps.config.chatWsTicketTtlSeconds;
  const stored: Stored = { kind, token: bearer(ctx), origin: ctx.get('origin') || null, tenantId };
  await deps.redis.set(redisKey.chatSocketTicket(deps.config.queuePrefix, hashOf(ticket)), JSON.stringify(stored), 'EX', ttl);
  return { ticket, expires_at: new Date(Date.now() + ttl * 1000).toISOString() };
}

export type Redeemed = { ok: true; token: string; tenantId: string | null } | { ok: false; code: 4401 | 4403; reason: string };

/** Redeems a ticket once, for the socket `kind` it was issued for, from the origin it was issued to. */
export async function redeemTicket(deps: AppDeps, ticket: string, kind: SocketKind, originHeader: string | undefined): Promise<Redeemed> {
  if (!/^wst_[A-Za-z0-9_-]{32}$/.test(ticket)) return { ok: false, code: 4401, reason: 'invalid socket ticket' };
  const raw = await deps.redis.getdel(redisKey.chatSocketTicket(deps.config.queuePrefix, hashOf(ticket)));
  if (!raw) return { ok: false, code: 4401, reason: 'unknown, used or expired socket ticket' };
  const s = JSON.parse(raw) as Stored;
  if (s.kind !== kind) return { ok: false, code: 4401, reason: 'this ticket is for another socket' };
  if (s.origin !== null && originHeader !== s.origin) return { ok: false, code: 4403, reason: 'origin does not match the ticket' };
  return { ok: true, token: s.token, tenantId: s.tenantId };
}

const ticketResponse = z.object({
  ticket: z.string().describe('Opaque, single use; put it in the socket URL as `?ticket=`.'),
  expires_at: z.string(),
  websocket_path: z.string(),
});
const HOW =
  'Redeem it once within CHAT_WS_TICKET_TTL_SECONDS (30 s) as `?ticket=<ticket>` on the socket; it stands for the bearer token that asked for it, which then stays out of the URL (and out of proxy logs). A ticket asked with an `Origin` header is only accepted from that Origin. A used, expired or unknown ticket closes the socket with 4401 (ask a new one); another Origin with 4403. `?token=` stays accepted.';

export const visitorSocketTicket = defineRoute({
  method: 'post',
  path: '/create/socket-ticket',
  summary: 'A one-time ticket for the visitor socket',
  description: `Bearer: the visitor token (unexpired); the same checks as every visitor route (origin, session, widget key). ${HOW}`,
  tags: ['Chat: visitors'],
  security: 'visitor',
  response: ticketResponse,
  successStatus: 201,
  errors: [401, 403],
  handler: async (ctx, { deps, principal }) => ({
    message: 'Socket ticket issued.',
    data: { ...(await issue(ctx, deps, 'visitor', principal.claims.tid)), websocket_path: '/api/v1/ws/widget' },
  }),
});

export const operatorSocketTicket = defineRoute({
  method: 'post',
  path: '/operator/create/socket-ticket',
  summary: 'A one-time ticket for the operator socket',
  description: `Bearer operator token; \`X-Bloonio-Tenant-Id\` optionally names the tenant (the ticket is for that tenant). ${HOW}`,
  tags: ['Chat: operators'],
  security: 'operator',
  response: ticketResponse,
  successStatus: 201,
  errors: [401, 403],
  handler: async (ctx, { deps, principal }) => ({
    message: 'Socket ticket issued.',
    data: { ...(await issue(ctx, deps, 'operator', principal.tenant.tenant._id)), websocket_path: '/api/v1/ws/operator' },
  }),
});

/** What either ticket route answers (`data`), for the widget, the inbox and the tests. */
export type SocketTicketResponse = ResponseData<typeof visitorSocketTicket>;
