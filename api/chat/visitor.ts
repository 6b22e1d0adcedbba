/**
 * Public, origin-gated visitor routes (docs/contract.md §3.1): the widget's configuration, a visitor session,
 * and refreshing a visitor token. CORS: these three answer browsers from any origin at the HTTP level
 * (api/chat/cors.ts), and each one checks the origin against the tenant's
 * `allowed_origins` itself (403 otherwise): no cookies are involved, the bearer token is the credential.
 */
import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ApiError } from '../errors.js';
import type { TenantDoc } from '../../models/platform/tenant.js';
import type { TenantEntry } from '../../models/platform/tenant-store.js';
import { tenantOnline } from '../../models/chat/operator-record.js';
import { rotateGeneration } from '../../models/chat/visitor-generation.js';
import { insertVisitorSession } from '../../models/chat/visitor-session-data.js';
import type { AppContext, AppDeps } from '../context.js';
import { requireActiveTenant } from '../principals/tenant.js';
import { mintVisitorToken, originProblem, widgetKeyHash } from '../principals/visitor.js';
import { allowSessionCreate } from './ws/limits.js';
import { defineRoute, q, type RequestBody, type ResponseData } from '../route.js';
import { appOrIWebOrigin } from '../schemas.js';

export const widgetConfig = z.object({
  tenant_id: z.string(),
  display_name: z.string(),
  logo_url: z.string().nullable(),
  primary_color: z.string().nullable(),
  online: z.boolean().describe('True when the tenant has at least one active operator.'),
  bot_enabled: z.boolean(),
  websocket_path: z.string(),
  max_message_chars: z.number(),
});
/** What GET /fetch/widget-config answers (`data`): the widget's own type for it. */
export type WidgetConfig = z.infer<typeof widgetConfig>;

async function widgetConfigOf(deps: AppDeps, t: TenantDoc): Promise<z.infer<typeof widgetConfig>> {
  // Cached in Redis (a minute; dropped on every operator change): a public route runs no operator scan per call.
  const online = await tenantOnline(deps, t._id);
  return {
    tenant_id: t._id,
    display_name: t.branding_display_name ?? t.tenant_name,
    logo_url: t.branding_logo_url ?? null,
    primary_color: t.branding_primary_color ?? null,
    online,
    bot_enabled: !!t.bot_webhook_url,
    websocket_path: '/api/v1/ws/widget',
    max_message_chars: deps.config.chatMessageMaxChars,
  };
}

const sameKey = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** The tenant behind a widget key; unknown tenant and wrong key answer alike (403), a suspended tenant 403. */
async function widgetTenant(deps: AppDeps, tenantId: string, widgetKey: string): Promise<TenantEntry> {
  const unknown = () => new ApiError('FORBIDDEN', 'Unknown tenant or widget key.');
  const entry = await requireActiveTenant(deps, tenantId, unknown);
  if (!sameKey(entry.tenant.widget_public_key, widgetKey)) throw unknown();
  return entry;
}

/** The browser's Origin header, when present, must be allowed and agree with the origin claimed. */
function checkOrigin(ctx: AppContext, tenant: TenantDoc, claimed: string | null): void {
  const problem = originProblem(tenant, claimed, ctx.get('origin') || undefined);
  if (problem) throw new ApiError('ORIGIN_NOT_ALLOWED', problem);
}

export const getWidgetConfig = defineRoute({
  method: 'get',
  path: '/fetch/widget-config',
  summary: 'What the widget launcher needs before a session',
  description:
    "Public. Tenant display name, branding, online status (some operator is active) and limits. A browser call must come from an origin in the tenant's `allowed_origins` (403 otherwise). CORS preflight is answered for any origin; the origin check is done here.",
  tags: ['Chat: visitors'],
  security: 'none',
  query: z.object({ tenant_id: q.tenantId(), widget_public_key: z.string().min(4).max(200) }),
  response: widgetConfig,
  errors: [403],
  handler: async (ctx, { query, deps }) => {
    const { tenant } = await widgetTenant(deps, query.tenant_id, query.widget_public_key);
    checkOrigin(ctx, tenant, null);
    return { message: 'Widget configuration.', data: await widgetConfigOf(deps, tenant) };
  },
});

const sessionResponse = z.object({
  session_id: z.string(),
  visitor_token: z.string(),
  expires_at: z.string(),
  session_expires_at: z.string(),
  conversation_id: z.string().nullable(),
  widget_config: widgetConfig,
});

export const createVisitorSession = defineRoute({
  method: 'post',
  path: '/create/visitor-session',
  summary: 'Open a visitor session (widget)',
  description: [
    "Public, origin-gated: `origin` must be in the tenant's `allowed_origins` and a browser's `Origin` header must be that same origin.",
    'Returns a visitor token (valid CHAT_VISITOR_TOKEN_TTL_SECONDS, bound to the tenant, the current widget key and the origin) for the widget socket `/api/v1/ws/widget`; the session lives 30 days and `POST /refresh/visitor-token` resumes it.',
  ].join('\n\n'),
  docs: 'api.md#widget-socket',
  tags: ['Chat: visitors'],
  security: 'none',
  body: z
    .object({
      tenant_id: q.tenantId(),
      widget_public_key: z.string().min(4).max(200),
      origin: appOrIWebOrigin,
      locale: z
        .string()
        .regex(/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$/)
        .default('fr'),
      metadata: z
        // Keys become document keys: no '.', no leading '$' (refused by FerretDB and MongoDB alike).
        .record(
          z.string().regex(/^[^.$][^.]{0,63}$/, 'keys are 1–64 characters without "." and not starting with "$"'),
          z.union([z.string().max(500), z.number(), z.boolean(), z.null()]),
        )
        .refine((m) => Object.keys(m).length <= 30, 'at most 30 keys')
        .meta({ maxProperties: 30 })
        .default({}),
      routing_key: z.string().min(1).max(100).nullable().default(null),
      mode: z.enum(['bot', 'human']).default('bot'),
    })
    .strict(),
  response: sessionResponse,
  successStatus: 201,
  errors: [403, 429],
  handler: async (ctx, { body, deps }) => {
    const entry = await widgetTenant(deps, body.tenant_id, body.widget_public_key);
    const tenant = entry.tenant;
    checkOrigin(ctx, tenant, body.origin);
    const limit = await allowSessionCreate(deps, tenant._id, ctx.ip);
    if (!limit.ok)
      throw new ApiError('RATE_LIMITED', 'Too many visitor sessions from this address; try again later.', [], {
        'Retry-After': String(limit.retryAfterS),
      });
    const session = await insertVisitorSession(entry.id, {
      origin: body.origin,
      locale: body.locale,
      metadata: body.metadata,
      routing_key: body.routing_key,
      mode: body.mode,
    });
    const minted = mintVisitorToken(
      deps.config,
      { tid: tenant._id, sid: session._id, wkh: widgetKeyHash(tenant.widget_public_key), org: body.origin },
      deps.config.chatVisitorTokenTtlSeconds,
    );
    return {
      message: 'Visitor session created.',
      data: {
        session_id: session._id,
        visitor_token: minted.token,
        expires_at: minted.expiresAt.toISOString(),
        session_expires_at: session.expires_at.toISOString(),
        conversation_id: null,
        widget_config: await widgetConfigOf(deps, tenant),
      },
    };
  },
});

export const refreshVisitorToken = defineRoute({
  method: 'post',
  path: '/refresh/visitor-token',
  summary: 'Refresh a visitor token (same session, same conversation)',
  description:
    "Bearer: the session's latest visitor token, unexpired or expired for at most CHAT_VISITOR_REFRESH_GRACE_SECONDS (default 24 h; its signature must be ours). The session must still be alive (30 days), the tenant active, the widget key unchanged and the origin still allowed; a browser's Origin header must match the token's origin. Returns a new token for the same session and conversation. Refresh rotates: the presented token is refused afterwards (401, on this route and on the socket), so each token refreshes once; a token replaced by a refresh, or expired beyond the grace, answers 401 (start a new session).",
  tags: ['Chat: visitors'],
  security: 'visitor-refresh',
  response: sessionResponse.omit({ widget_config: true }),
  errors: [401, 403],
  handler: async (_ctx, { deps, principal }) => {
    const { claims: c, session } = principal;
    const { tid, sid, wkh, org, vuid } = c;
    // Rotation: the presented token's generation is used up here, once (a racing refresh of it gets 401).
    const gen = await rotateGeneration(deps, tid, sid, c.gen ?? 0, session.expires_at);
    if (gen === null) throw new ApiError('INVALID_TOKEN', 'This visitor token was replaced by a refresh: use the newest one.');
    const minted = mintVisitorToken(
      deps.config,
      { tid, sid, wkh, org, ...(vuid ? { vuid } : {}), gen },
      deps.config.chatVisitorTokenTtlSeconds,
    );
    return {
      message: 'Visitor token refreshed.',
      data: {
        session_id: session._id,
        visitor_token: minted.token,
        expires_at: minted.expiresAt.toISOString(),
        session_expires_at: session.expires_at.toISOString(),
        conversation_id: session.conversation_id ?? null,
      },
    };
  },
});

/** The wire types of these routes, for the widget and the tests. */
export type CreateVisitorSessionRequest = RequestBody<typeof createVisitorSession>;
export type CreateVisitorSessionResponse = ResponseData<typeof createVisitorSession>;
export type RefreshVisitorTokenResponse = ResponseData<typeof refreshVisitorToken>;

export const chatVisitorRoutes = [getWidgetConfig, createVisitorSession, refreshVisitorToken];
