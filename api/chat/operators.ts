/**
 * Operators, from the tenant's backend (HMAC #1, SPEC §3.3): provision one (create or reuse,
 * idempotent on email + tenant) and mint its token. Operators have no password: the tenant's backend
 * vouches for them by minting tokens for its own tenant only.
 */
import { z } from 'zod';
import { OPERATOR_ROLES, OperatorModel, type OperatorDoc } from '../../models/chat/operator.js';
import { upsertRelayUserLink } from '../../models/platform/relay-user-link.js';
import { newId } from '../../platform/ids.js';
import { notFound } from '../errors.js';
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
  created: z.boolean(),
});

const toOperatorView = (o: OperatorDoc, created: boolean): z.infer<typeof operatorView> => ({
  operator_id: o._id,
  email: o.email,
  display_name: o.display_name,
  routing_keys: o.routing_keys ?? [],
  role: o.role as (typeof OPERATOR_ROLES)[number],
  relay_user_linked_id: o.relay_user_linked_id,
  created,
});

export const provisionOperator = defineRoute({
  method: 'post',
  path: '/relay/provision/operator',
  summary: 'Create or reuse an operator (idempotent on email + tenant)',
  description:
    '201 with `created: true` the first time, 200 with `created: false` afterwards; each call refreshes `display_name`, `routing_keys` and `role`. `routing_keys` restrict the operator to those queues (null or [] = the whole tenant). Operators have no password: they sign in with tokens minted by your backend (`POST /relay/mint/operator-token`). Links the operator to a relay_user (`relay_user_linked_id`, keyed by `backend_user_id`, defaulting to the email).',
  tags: ['Chat: operators'],
  security: 'hmac',
  body: z
    .object({
      email: emailAddress.transform((e) => e.toLowerCase()),
      display_name: z.string().trim().min(1).max(120),
      routing_keys: z.array(z.string().min(1).max(100)).max(200).nullable().default(null),
      role: z.enum(OPERATOR_ROLES).default('agent'),
      backend_user_id: z.string().min(1).max(200).optional(),
    })
    .strict(),
  response: operatorView,
  successStatus: 201,
  otherSuccessStatuses: [200],
  handler: async (_ctx, { body, principal }) => {
    const tenant = principal.tenant.tenant;
    const link = await upsertRelayUserLink(tenant._id, body.backend_user_id ?? body.email, 'operator', body.display_name);
    const set = { display_name: body.display_name, routing_keys: body.routing_keys ?? [], role: body.role };
    const filter = { tenant_id: tenant._id, email: body.email };
    const existing = await OperatorModel.findOneAndUpdate(filter, { $set: set }, { new: true }).lean<OperatorDoc>();
    if (existing)
      return { status: 200, message: 'Operator already provisioned; settings refreshed.', data: toOperatorView(existing, false) };
    try {
      const created = await OperatorModel.create({
        _id: newId('op'),
        ...filter,
        ...set,
        relay_user_linked_id: String(link._id),
      });
      return { status: 201, message: 'Operator provisioned.', data: toOperatorView(created.toObject() as unknown as OperatorDoc, true) };
    } catch (err) {
      if ((err as { code?: number }).code !== 11000) throw err;
      // A concurrent provisioning of the same email won: return its operator.
      const other = await OperatorModel.findOneAndUpdate(filter, { $set: set }, { new: true }).lean<OperatorDoc>();
      if (!other) throw err;
      return { status: 200, message: 'Operator already provisioned; settings refreshed.', data: toOperatorView(other, false) };
    }
  },
});

export const mintOperatorTokenRoute = defineRoute({
  method: 'post',
  path: '/relay/mint/operator-token',
  summary: 'Mint an operator token',
  description:
    'Returns an HS256 JWT (key derived by HKDF from the relay master key) with `sub` = operator id and `tids: {<calling tenant_id>: role}` — the calling tenant only. Use it as `Authorization: Bearer` on /operator/* routes and as `?token=` on `/api/v1/ws/operator` (frames in: `take`/`release`/`resolve` `{conversation_id, ref?}` → `result {ok, status?, code?}`, `message {conversation_id, text, client_id?}` → `ack`, `typing`, `read`, `sync {conversation_id, last_seq}` (replays what was missed), `ping`; frames out: `welcome`, `conversation {change, conversation}` for every conversation within the routing keys, `message {conversation_id, message}` for conversations assigned to the operator or still unassigned, `typing`, `read`, `error`). Name the operator by `operator_id` or `email` (404 when not in this tenant).',
  tags: ['Chat: operators'],
  security: 'hmac',
  body: z
    .object({
      operator_id: z.string().startsWith('op_').optional(),
      email: emailAddress.transform((e) => e.toLowerCase()).optional(),
      ttl_seconds: z
        .number()
        .int()
        .min(60)
        .max(7 * 86400)
        .optional(),
    })
    .strict()
    .refine((b) => !!b.operator_id !== !!b.email, 'give exactly one of operator_id or email')
    .meta({ oneOf: [{ required: ['operator_id'] }, { required: ['email'] }] }),
  response: z.object({ operator_token: z.string(), expires_at: z.string(), operator: operatorView.omit({ created: true }) }),
  successStatus: 201,
  errors: [404],
  handler: async (_ctx, { body, deps, principal }) => {
    const tenant = principal.tenant.tenant;
    const op = await OperatorModel.findOne({
      tenant_id: tenant._id,
      ...(body.operator_id ? { _id: body.operator_id } : { email: body.email }),
      status: 'active',
    }).lean<OperatorDoc>();
    if (!op) throw notFound('Operator');
    const minted = mintOperatorToken(
      deps.config,
      op._id,
      { [tenant._id]: op.role },
      body.ttl_seconds ?? deps.config.chatOperatorTokenTtlSeconds,
    );
    const { created: _c, ...view } = toOperatorView(op, false);
    return {
      message: 'Operator token minted.',
      data: { operator_token: minted.token, expires_at: minted.expiresAt.toISOString(), operator: view },
    };
  },
});
