/**
 * Operators, from the tenant's backend (HMAC #1, docs/contract.md §3.3): provision one (create or reuse,
 * idempotent on email + tenant), deprovision it, and mint its token (models/chat/operator-lifecycle.ts). Operators have no password: the tenant's backend
 * vouches for them by minting tokens for its own tenant only.
 */
import { z } from 'zod';
import { OPERATOR_ROLES, type OperatorDoc } from '../../models/chat/operator.js';
import { operatorOfTenant } from '../../models/chat/operator-data.js';
import { deprovisionOperator, provisionOperator } from '../../models/chat/operator-lifecycle.js';
import { storeRecord, toRecord } from '../../models/chat/operator-record.js';
import { ApiError, notFound } from '../errors.js';
import { mintOperatorToken } from '../principals/operator.js';
import { defineRoute } from '../route.js';
import { emailAddress } from '../schemas.js';

const operatorView = z.object({
  operator_id: z.string(),
  email: z.string(),
  display_name: z.string(),
  routing_keys: z.array(z.string()),
  role: z.enum(OPERATOR_ROLES),
  relay_user_linked_id: z.string(),
  status: z.enum(['active', 'disabled']),
  created: z.boolean(),
});

const toOperatorView = (o: OperatorDoc, created: boolean): z.infer<typeof operatorView> => ({
  operator_id: o._id,
  email: o.email,
  display_name: o.display_name,
  routing_keys: o.routing_keys ?? [],
  role: o.role as (typeof OPERATOR_ROLES)[number],
  relay_user_linked_id: o.relay_user_linked_id,
  status: o.status === 'disabled' ? 'disabled' : 'active',
  created,
});

const operatorEmail = emailAddress.transform((e) => e.toLowerCase());

/** Name one operator of the calling tenant: by `operator_id` or by `email`, exactly one. */
const operatorRef = z.object({ operator_id: z.string().startsWith('op_').optional(), email: operatorEmail.optional() });
const exactlyOne = (b: { operator_id?: string | undefined; email?: string | undefined }) => !!b.operator_id !== !!b.email;
const ONE_OF = { oneOf: [{ required: ['operator_id'] }, { required: ['email'] }] };

export const provisionOperatorRoute = defineRoute({
  method: 'post',
  path: '/relay/provision/operator',
  summary: 'Create or reuse an operator (idempotent on email + tenant)',
  description:
    "201 with `created: true` the first time, 200 with `created: false` afterwards; each call refreshes `display_name`, `routing_keys` and `role` and enables a deprovisioned operator again. A change of `role` or `routing_keys`, or re-enabling, revokes the operator's earlier tokens at once (its open sockets close with 4401). Operators have no password: your backend mints their tokens (`POST /relay/mint/operator-token`).",
  tags: ['Chat: operators'],
  security: 'hmac',
  body: z
    .object({
      email: operatorEmail,
      display_name: z.string().trim().min(1).max(120),
      routing_keys: z
        .array(z.string().min(1).max(100))
        .max(200)
        .nullable()
        .default(null)
        .describe('The queues the operator works; null or [] = the whole tenant.'),
      role: z.enum(OPERATOR_ROLES).default('agent'),
      backend_user_id: z
        .string()
        .min(1)
        .max(200)
        .optional()
        .describe("Keys the operator's relay_user link (`relay_user_linked_id`); defaults to the email."),
    })
    .strict(),
  response: operatorView,
  successStatus: 201,
  otherSuccessStatuses: [200],
  handler: async (_ctx, { body, deps, principal }) => {
    const { routing_keys, ...rest } = body;
    const r = await provisionOperator(deps, principal.tenant.id, { ...rest, routing_keys: routing_keys ?? [] });
    return r.created
      ? { status: 201, message: 'Operator provisioned.', data: toOperatorView(r.operator, true) }
      : { status: 200, message: 'Operator already provisioned; settings refreshed.', data: toOperatorView(r.operator, false) };
  },
});

export const deprovisionOperatorRoute = defineRoute({
  method: 'post',
  path: '/relay/deprovision/operator',
  summary: 'Disable an operator: its tokens and sockets stop at once (idempotent)',
  description:
    'Name the operator by `operator_id` or `email` (404 when not in this tenant). Sets `status: disabled`: every token it holds is refused from the next request or socket frame (401), its open sockets close with 4401 within a second on every relay process, and `mint/operator-token` answers 410 for it. Deprovisioning again answers 200 with the same operator. Provision it again (`POST /relay/provision/operator`) to enable it; tokens minted before stay revoked.',
  tags: ['Chat: operators'],
  security: 'hmac',
  body: operatorRef.strict().refine(exactlyOne, 'give exactly one of operator_id or email').meta(ONE_OF),
  response: operatorView.omit({ created: true }),
  errors: [404],
  handler: async (_ctx, { body, deps, principal }) => {
    const by = body.operator_id ? { operator_id: body.operator_id } : { email: body.email ?? '' };
    const op = await deprovisionOperator(deps, principal.tenant.id, by);
    if (!op) throw notFound('Operator');
    const { created: _c, ...view } = toOperatorView(op, false);
    return { message: 'Operator deprovisioned; its tokens are revoked.', data: view };
  },
});

export const mintOperatorTokenRoute = defineRoute({
  method: 'post',
  path: '/relay/mint/operator-token',
  summary: 'Mint an operator token',
  description:
    "Returns an operator token for the calling tenant only, for /operator/* routes and the operator socket `/api/v1/ws/operator`. Name the operator by `operator_id` or `email`. Deprovisioning the operator, or changing its role or routing keys, revokes the token; the role is read from the relay's record at every use.",
  docs: 'api.md#operator-socket',
  tags: ['Chat: operators'],
  security: 'hmac',
  body: operatorRef
    .extend({
      ttl_seconds: z
        .number()
        .int()
        .min(60)
        .max(7 * 86400)
        .optional(),
    })
    .strict()
    .refine(exactlyOne, 'give exactly one of operator_id or email')
    .meta(ONE_OF),
  response: z.object({ operator_token: z.string(), expires_at: z.string(), operator: operatorView.omit({ created: true }) }),
  successStatus: 201,
  errors: { 404: 'the operator is not in this tenant', 410: 'the operator was deprovisioned' },
  handler: async (_ctx, { body, deps, principal }) => {
    const tenant = principal.tenant.tenant;
    const op = await operatorOfTenant(principal.tenant.id, body);
    if (!op) throw notFound('Operator');
    if (op.status === 'disabled') throw new ApiError('GONE', 'This operator is deprovisioned; provision it again to enable it.');
    // The hot record is warmed with what the token carries (a monotonic write: never older than Redis holds).
    const rec = toRecord(op);
    await storeRecord(deps, rec);
    const minted = mintOperatorToken(
      deps.config,
      op._id,
      { [tenant._id]: rec.role },
      body.ttl_seconds ?? deps.config.chatOperatorTokenTtlSeconds,
      rec.v,
    );
    const { created: _c, ...view } = toOperatorView(op, false);
    return {
      message: 'Operator token minted.',
      data: { operator_token: minted.token, expires_at: minted.expiresAt.toISOString(), operator: view },
    };
  },
});
