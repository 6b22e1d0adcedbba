/**
 * Callback deliveries for ops (X-Admin-Key): inspect a delivery's attempts, list the dead-letter
 * store (deliveries whose retries ran out or that were refused for good), replay one or a range.
 */
import { z } from 'zod';
import { MAX_REPLAY, listDeadLetters, listDeliveries, replayDeadLetters as replay } from '../../models/platform/delivery-admin.js';
import { defineRoute, q } from '../route.js';
import { isoDate } from '../schemas.js';

const tags = ['Admin: callbacks'];

export const deliveryOut = z.object({
  delivery_id: z.string(),
  event_id: z.string(),
  event_type: z.string(),
  url: z.string(),
  status: z.enum(['pending', 'succeeded', 'dead']),
  attempt_count: z.number(),
  attempts: z.array(
    z.object({
      n: z.number(),
      at: z.string(),
      duration_ms: z.number(),
      outcome: z.string(),
      status_code: z.number().nullable(),
      error: z.string().nullable(),
      response_body: z.string().nullable(),
    }),
  ),
  next_attempt_at: z.string().nullable(),
  delivered_at: z.string().nullable(),
  dead_at: z.string().nullable(),
  dead_reason: z.string().nullable(),
  replay_count: z.number(),
  created_at: z.string(),
});

export const fetchDeliveries = defineRoute({
  method: 'get',
  path: '/fetch/deliveries',
  summary: "List a tenant's callback deliveries with every attempt",
  description:
    'Newest first. A delivery is recorded with its first attempt (the worker writes it, batched, milliseconds after the event under normal load); with `delivery_id`, one still waiting for its first attempt is shown from its queued job as `pending` with no attempt, so a status read never misses an accepted event.',
  tags,
  security: 'admin',
  query: z.object({
    tenant_id: q.tenantId(),
    event_id: z.string().startsWith('evt_').optional(),
    delivery_id: z.string().startsWith('dlv_').optional(),
    status: z.enum(['pending', 'succeeded', 'dead']).optional(),
    limit: q.int(1, 200, 50),
    offset: q.int(0, 1_000_000, 0),
  }),
  response: z.object({ deliveries: z.array(deliveryOut), total: z.number() }),
  handler: async (_ctx, { query, deps }) => {
    const data = await listDeliveries(deps, query.tenant_id, query);
    const n = data.deliveries.length;
    return { message: `${n} deliver${n === 1 ? 'y' : 'ies'}.`, data };
  },
});

export const rangeQuery = z.object({
  tenant_id: q.tenantId(),
  from: isoDate.optional(),
  to: isoDate.optional(),
  limit: q.int(1, 200, 50),
  offset: q.int(0, 1_000_000, 0),
});

export const fetchDeadLetters = defineRoute({
  method: 'get',
  path: '/fetch/dead-letters',
  summary: "List a tenant's dead-lettered callback deliveries",
  description:
    'Deliveries whose retry schedule ran out, or that the endpoint refused for good (a 4xx other than 408/429, or a refused address).',
  tags,
  security: 'admin',
  query: rangeQuery,
  response: z.object({ dead_letters: z.array(deliveryOut), total: z.number() }),
  handler: async (_ctx, { query }) => {
    const data = await listDeadLetters(query.tenant_id, query);
    return { message: `${data.dead_letters.length} dead letter(s).`, data };
  },
});

export const replayBody = z
  .object({ delivery_id: z.string().startsWith('dlv_').optional(), from: isoDate.optional(), to: isoDate.optional() })
  .strict()
  .refine((b) => Boolean(b.delivery_id) !== Boolean(b.from || b.to), 'give either delivery_id, or from and/or to')
  .meta({ oneOf: [{ required: ['delivery_id'] }, { anyOf: [{ required: ['from'] }, { required: ['to'] }] }] });

export const replayDeadLetters = defineRoute({
  method: 'post',
  path: '/replay/dead-letters',
  summary: 'Replay one dead-lettered delivery, or all of a tenant in a time range',
  description: `Give delivery_id for one, or from/to (ISO-8601, on dead_at) for a range; at most ${MAX_REPLAY} per call. Replays keep the event id, so receivers can de-duplicate.`,
  tags,
  security: 'admin',
  query: z.object({ tenant_id: q.tenantId() }),
  body: replayBody,
  response: z.object({ replayed: z.number(), delivery_ids: z.array(z.string()) }),
  handler: async (_ctx, { body, query, deps }) => {
    const replayed = await replay(deps, query.tenant_id, body);
    return {
      message: body.delivery_id ? 'Delivery replayed.' : `${replayed.length} deliver${replayed.length === 1 ? 'y' : 'ies'} replayed.`,
      data: { replayed: replayed.length, delivery_ids: replayed },
    };
  },
});

export const adminDeliveryRoutes = [fetchDeliveries, fetchDeadLetters, replayDeadLetters];
