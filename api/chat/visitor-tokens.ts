/** POST /relay/mint/visitor-token (docs/contract.md §3.1): the tenant's backend vouches for an identified visitor. */
import { z } from 'zod';
import { currentGeneration } from '../../models/chat/visitor-generation.js';
import { insertVisitorSession, liveSessionOfVisitor } from '../../models/chat/visitor-session-data.js';
import { ApiError } from '../errors.js';
import { mintVisitorToken, originAllowed, widgetKeyHash } from '../principals/visitor.js';
import { defineRoute } from '../route.js';
import { appOrIWebOrigin } from '../schemas.js';

export const mintVisitorTokenRoute = defineRoute({
  method: 'post',
  path: '/relay/mint/visitor-token',
  summary: 'Mint a visitor token for an identified visitor (in-app SDKs)',
  description:
    "mint_visitor_token: like Intercom's identity verification, the tenant's backend vouches for `visitor_user_id`. Reuses that visitor's live session (same conversation) or opens one. `origin` (optional) binds the token to a web origin or app scheme in `allowed_origins`; without it the token is not origin-bound (for native SDKs). Token: HS256 JWT, `ttl_seconds` (default 3600).",
  tags: ['Chat: visitors'],
  security: 'hmac',
  body: z
    .object({
      visitor_user_id: z.string().min(1).max(200),
      visitor_email_hash: z
        .string()
        .regex(/^[0-9a-f]{64}$/, 'must be a sha256 hex digest')
        .nullable()
        .default(null),
      ttl_seconds: z.number().int().min(60).max(86400).default(3600),
      origin: appOrIWebOrigin.nullable().default(null),
      routing_key: z.string().min(1).max(100).nullable().default(null),
      mode: z.enum(['bot', 'human']).default('bot'),
      locale: z.string().max(20).default('fr'),
    })
    .strict(),
  response: z.object({
    session_id: z.string(),
    visitor_token: z.string(),
    expires_at: z.string(),
    conversation_id: z.string().nullable(),
    created: z.boolean(),
  }),
  successStatus: 201,
  otherSuccessStatuses: [200],
  errors: [403],
  handler: async (_ctx, { body, deps, principal }) => {
    const tenant = principal.tenant.tenant;
    if (body.origin && !originAllowed(tenant, body.origin))
      throw new ApiError('ORIGIN_NOT_ALLOWED', "This origin is not in the tenant's allowed_origins.");
    let session = await liveSessionOfVisitor(principal.tenant.id, body.visitor_user_id);
    const created = !session;
    if (!session) {
      session = await insertVisitorSession(principal.tenant.id, {
        origin: body.origin ?? 'backend:minted',
        locale: body.locale,
        routing_key: body.routing_key,
        mode: body.mode,
        visitor_user_id: body.visitor_user_id,
        visitor_email_hash: body.visitor_email_hash,
      });
    }
    const minted = mintVisitorToken(
      deps.config,
      {
        tid: tenant._id,
        sid: session._id,
        wkh: widgetKeyHash(tenant.widget_public_key),
        org: body.origin,
        vuid: body.visitor_user_id,
        // The session's current generation: a reused session may have been refreshed already.
        gen: await currentGeneration(deps, tenant._id, session._id),
      },
      body.ttl_seconds,
    );
    return {
      status: created ? 201 : 200,
      message: created ? 'Visitor session created.' : 'Visitor token minted for the existing session.',
      data: {
        session_id: session._id,
        visitor_token: minted.token,
        expires_at: minted.expiresAt.toISOString(),
        conversation_id: session.conversation_id ?? null,
        created,
      },
    };
  },
});
