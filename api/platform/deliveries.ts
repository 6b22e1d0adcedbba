/**
 * Callback deliveries for ops (X-Admin-Key): inspect a delivery's attempts, list the dead-letter
 * store (deliveries whose retries ran out or that were refused for good), replay one or a range.
 */
import { z } from 'zod';
import { DeliveryModel, deliveryJobOf, toPublicDelivery, type DeliveryDoc } from '../../models/platform/delivery.js';
import type { JobPayload } from '../../queues/catalogue.js';
import { QUEUE } from '../../queues/names.js';
import { ApiError, notFound } from '../errors.js';
import type { AppDeps } from '../context.js';
import { defineRoute, q } from '../route.js';
import { isoDate } from '../schemas.js';

const tags = ['Admin: callbacks'];
const MAX_REPLAY = 1000;

const deliveryOut = z.object({
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

/**
 * A delivery whose first attempt has not been recorded yet is only its job (models/platform/emit-event.ts):
 * shown as pending with no attempt.
 */
async function queuedDelivery(deps: AppDeps, tenantId: string, deliveryId: string): Promise<z.infer<typeof deliveryOut> | null> {
  const job = await deps.producer.queue(QUEUE.webhookDelivery).getJob(deliveryId);
  const d = job?.data as JobPayload<'webhook.deliver'> | undefined;
  if (!d || d.tenantId !== tenantId) return null;
  return {
    delivery_id: d.deliveryId,
    event_id: d.eventId,
    event_type: d.eventType,
    url: d.url,
    status: 'pending',
    attempt_count: 0,
    attempts: [],
    next_attempt_at: new Date(job?.timestamp ?? d.createdAt).toISOString(),
    delivered_at: null,
    dead_at: null,
    dead_reason: null,
    replay_count: d.replay,
    created_at: new Date(d.createdAt).toISOString(),
  };
}

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
    const filter = {
      tenant_id: query.tenant_id,
      ...(query.event_id ? { event_id: query.event_id } : {}),
      ...(query.delivery_id ? { _id: query.delivery_id } : {}),
      ...(query.status ? { status: query.status } : {}),
    };
    if (query.delivery_id) {
      // One delivery by id: recorded (MongoDB), or still waiting for its first attempt (its job).
      const recorded = await DeliveryModel.findOne(filter).lean<DeliveryDoc>();
      const queued = recorded ? null : await queuedDelivery(deps, query.tenant_id, query.delivery_id);
      const rows = recorded ? [toPublicDelivery(recorded)] : queued && (!query.status || query.status === 'pending') ? [queued] : [];
      return { message: `${rows.length} deliver${rows.length === 1 ? 'y' : 'ies'}.`, data: { deliveries: rows, total: rows.length } };
    }
    const [rows, total] = await Promise.all([
      DeliveryModel.find(filter).sort({ _id: -1 }).skip(query.offset).limit(query.limit).lean<DeliveryDoc[]>(),
      DeliveryModel.countDocuments(filter),
    ]);
    return {
      message: `${rows.length} deliver${rows.length === 1 ? 'y' : 'ies'}.`,
      data: { deliveries: rows.map(toPublicDelivery), total },
    };
  },
});

const rangeQuery = z.object({
  tenant_id: q.tenantId(),
  from: isoDate.optional(),
  to: isoDate.optional(),
  limit: q.int(1, 200, 50),
  offset: q.int(0, 1_000_000, 0),
});

function deadFilter(tenantId: string, from?: string, to?: string) {
  const range = { ...(from ? { $gte: new Date(from) } : {}), ...(to ? { $lte: new Date(to) } : {}) };
  return { tenant_id: tenantId, status: 'dead', ...(from || to ? { dead_at: range } : {}) };
}

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
    const filter = deadFilter(query.tenant_id, query.from, query.to);
    const [rows, total] = await Promise.all([
      DeliveryModel.find(filter).sort({ dead_at: -1 }).skip(query.offset).limit(query.limit).lean<DeliveryDoc[]>(),
      DeliveryModel.countDocuments(filter),
    ]);
    return { message: `${rows.length} dead letter(s).`, data: { dead_letters: rows.map(toPublicDelivery), total } };
  },
});

/** Guarded move dead → pending (a concurrent replay of the same delivery loses), then enqueue. */
async function replayOne(deps: AppDeps, tenantId: string, deliveryId: string): Promise<boolean> {
  const d = await DeliveryModel.findOneAndUpdate(
    { _id: deliveryId, tenant_id: tenantId, status: 'dead' },
    { $set: { status: 'pending', dead_at: null, dead_reason: null, next_attempt_at: new Date() }, $inc: { replay_count: 1 } },
    { new: true },
  ).lean<DeliveryDoc>();
  if (!d) return false;
  await deps.producer.enqueue('webhook.deliver', deliveryJobOf(d));
  return true;
}

export const replayDeadLetters = defineRoute({
  method: 'post',
  path: '/replay/dead-letters',
  summary: 'Replay one dead-lettered delivery, or all of a tenant in a time range',
  description: `Give delivery_id for one, or from/to (ISO-8601, on dead_at) for a range; at most ${MAX_REPLAY} per call. Replays keep the event id, so receivers can de-duplicate.`,
  tags,
  security: 'admin',
  query: z.object({ tenant_id: q.tenantId() }),
  body: z
    .object({ delivery_id: z.string().startsWith('dlv_').optional(), from: isoDate.optional(), to: isoDate.optional() })
    .strict()
    .refine((b) => Boolean(b.delivery_id) !== Boolean(b.from || b.to), 'give either delivery_id, or from and/or to')
    .meta({ oneOf: [{ required: ['delivery_id'] }, { anyOf: [{ required: ['from'] }, { required: ['to'] }] }] }),
  response: z.object({ replayed: z.number(), delivery_ids: z.array(z.string()) }),
  handler: async (_ctx, { body, query, deps }) => {
    if (body.delivery_id) {
      if (!(await replayOne(deps, query.tenant_id, body.delivery_id))) {
        const exists = await DeliveryModel.exists({ _id: body.delivery_id, tenant_id: query.tenant_id });
        if (!exists) throw notFound('Delivery');
        throw new ApiError('CONFLICT', 'This delivery is not in the dead-letter store.');
      }
      return { message: 'Delivery replayed.', data: { replayed: 1, delivery_ids: [body.delivery_id] } };
    }
    const rows = await DeliveryModel.find(deadFilter(query.tenant_id, body.from, body.to), { _id: 1 })
      .sort({ dead_at: 1 })
      .limit(MAX_REPLAY)
      .lean<{ _id: string }[]>();
    const replayed: string[] = [];
    for (const r of rows) if (await replayOne(deps, query.tenant_id, r._id)) replayed.push(r._id);
    return {
      message: `${replayed.length} deliver${replayed.length === 1 ? 'y' : 'ies'} replayed.`,
      data: { replayed: replayed.length, delivery_ids: replayed },
    };
  },
});

export const adminDeliveryRoutes = [fetchDeliveries, fetchDeadLetters, replayDeadLetters];
