/**
 * Reading and replaying a tenant's callback deliveries, shared by the admin API
 * (api/platform/deliveries.ts) and the console (api/console/deliveries.ts). Every function takes the
 * tenant id and puts it in every query: the caller has already decided the caller may see that
 * tenant (the admin key, or the console's workspace scope).
 */
import { QUEUE } from '../../queues/names.js';
import type { JobPayload } from '../../queues/catalogue.js';
import { DomainError, notFound } from '../../platform/errors.js';
import type { FlowDeps } from './deps.js';
import { DeliveryModel, deliveryJobOf, toPublicDelivery, type DeliveryDoc } from './delivery.js';
import { deliveryGuard, deliveryMachine } from './delivery-machine.js';

export type PublicDelivery = ReturnType<typeof toPublicDelivery>;
export const MAX_REPLAY = 1000;
type Deps = Pick<FlowDeps, 'producer'>;

/**
 * A delivery whose first attempt has not been recorded yet is only its job (models/platform/emit-event.ts):
 * shown as pending with no attempt.
 */
async function queuedDelivery(deps: Deps, tenantId: string, deliveryId: string): Promise<PublicDelivery | null> {
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

export type DeliveryQuery = {
  event_id?: string | undefined;
  delivery_id?: string | undefined;
  status?: 'pending' | 'succeeded' | 'dead' | undefined;
  limit: number;
  offset: number;
};

/** Newest first; one delivery by id may still be only its job (pending, no attempt). */
export async function listDeliveries(
  deps: Deps,
  tenantId: string,
  q: DeliveryQuery,
): Promise<{ deliveries: PublicDelivery[]; total: number }> {
  const filter = {
    tenant_id: tenantId,
    ...(q.event_id ? { event_id: q.event_id } : {}),
    ...(q.delivery_id ? { _id: q.delivery_id } : {}),
    ...(q.status ? { status: q.status } : {}),
  };
  if (q.delivery_id) {
    const recorded = await DeliveryModel.findOne(filter).lean<DeliveryDoc>();
    const queued = recorded ? null : await queuedDelivery(deps, tenantId, q.delivery_id);
    const rows = recorded ? [toPublicDelivery(recorded)] : queued && (!q.status || q.status === 'pending') ? [queued] : [];
    return { deliveries: rows, total: rows.length };
  }
  const [rows, total] = await Promise.all([
    DeliveryModel.find(filter).sort({ _id: -1 }).skip(q.offset).limit(q.limit).lean<DeliveryDoc[]>(),
    DeliveryModel.countDocuments(filter),
  ]);
  return { deliveries: rows.map(toPublicDelivery), total };
}

function deadFilter(tenantId: string, from?: string, to?: string) {
  const range = { ...(from ? { $gte: new Date(from) } : {}), ...(to ? { $lte: new Date(to) } : {}) };
  return { tenant_id: tenantId, status: 'dead', ...(from || to ? { dead_at: range } : {}) };
}

export type RangeQuery = { from?: string | undefined; to?: string | undefined; limit: number; offset: number };

export async function listDeadLetters(tenantId: string, q: RangeQuery): Promise<{ dead_letters: PublicDelivery[]; total: number }> {
  const filter = deadFilter(tenantId, q.from, q.to);
  const [rows, total] = await Promise.all([
    DeliveryModel.find(filter).sort({ dead_at: -1 }).skip(q.offset).limit(q.limit).lean<DeliveryDoc[]>(),
    DeliveryModel.countDocuments(filter),
  ]);
  return { dead_letters: rows.map(toPublicDelivery), total };
}

/** The machine's `replay` (dead → pending), guarded so a concurrent replay of the same delivery loses; then enqueue. */
async function replayOne(deps: Deps, tenantId: string, deliveryId: string): Promise<boolean> {
  const d = await DeliveryModel.findOneAndUpdate(
    { _id: deliveryId, tenant_id: tenantId, ...deliveryGuard('replay') },
    {
      $set: { status: deliveryMachine.get('replay').to, dead_at: null, dead_reason: null, next_attempt_at: new Date() },
      $inc: { replay_count: 1 },
    },
    { new: true },
  ).lean<DeliveryDoc>();
  if (!d) return false;
  await deps.producer.enqueue('webhook.deliver', deliveryJobOf(d));
  return true;
}

/** One dead letter (404 unknown, 409 not dead), or every one of a tenant in a time range (at most MAX_REPLAY). */
export async function replayDeadLetters(
  deps: Deps,
  tenantId: string,
  what: { delivery_id?: string | undefined; from?: string | undefined; to?: string | undefined },
): Promise<string[]> {
  if (what.delivery_id) {
    if (!(await replayOne(deps, tenantId, what.delivery_id))) {
      const exists = await DeliveryModel.exists({ _id: what.delivery_id, tenant_id: tenantId });
      if (!exists) throw notFound('Delivery');
      throw new DomainError('CONFLICT', 'This delivery is not in the dead-letter store.');
    }
    return [what.delivery_id];
  }
  const rows = await DeliveryModel.find(deadFilter(tenantId, what.from, what.to), { _id: 1 })
    .sort({ dead_at: 1 })
    .limit(MAX_REPLAY)
    .lean<{ _id: string }[]>();
  const replayed: string[] = [];
  for (const r of rows) if (await replayOne(deps, tenantId, r._id)) replayed.push(r._id);
  return replayed;
}
