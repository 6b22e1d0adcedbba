/**
 * Emitting a callback event (SPEC §1.4): store the event, create one delivery per endpoint, enqueue
 * the delivery jobs. Never inline HTTP: the worker delivers.
 *
 * Invariant relied on: once this returns, the delivery is in MongoDB as `pending`, so it will be
 * delivered even if the enqueue below failed (the maintenance sweeper re-enqueues pending
 * deliveries whose job went missing). Nothing accepted is lost.
 */
import { BatchInserter } from './batch-insert.js';
import { DeliveryModel } from './delivery.js';
import { EventModel } from './event.js';
import type { Logger } from '../../platform/logger.js';
import { newId } from '../../platform/ids.js';
import type { Producer } from '../../queues/producer.js';

// Raw collection inserts (no Mongoose document): every field, defaults included, is written above.
const eventInserts = new BatchInserter(() => EventModel.collection);
const deliveryInserts = new BatchInserter(() => DeliveryModel.collection);

export type EmitTarget = { tenantId: string; callbackUrlBase: string | null | undefined; path: string };
export type Emitted = { eventId: string; deliveryId: string | null; url: string | null; createdAt: Date };

export function callbackUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path.startsWith('/') ? path : `/${path}`}`;
}

export async function emitEvent(
  deps: { producer: Producer; logger: Logger },
  target: EmitTarget,
  eventType: string,
  data: Record<string, unknown>,
): Promise<Emitted> {
  const eventId = newId('evt');
  const createdAt = new Date();
  const event = { _id: eventId, tenant_id: target.tenantId, event_type: eventType, data, created_at: createdAt };
  if (!target.callbackUrlBase) {
    await eventInserts.insert(event);
    return { eventId, deliveryId: null, url: null, createdAt };
  }

  const url = callbackUrl(target.callbackUrlBase, target.path);
  // These exact bytes are signed and sent on every attempt (SPEC §1.4 body shape).
  const body = JSON.stringify({
    event_id: eventId,
    event_type: eventType,
    tenant_id: target.tenantId,
    created_at: createdAt.toISOString(),
    data,
  });
  const deliveryId = newId('dlv');
  // The two documents are independent: written side by side, each group-committed with the
  // concurrent requests' documents (one insertMany per few ms instead of one round trip each).
  await Promise.all([
    eventInserts.insert(event),
    deliveryInserts.insert({
      _id: deliveryId,
      tenant_id: target.tenantId,
      event_id: eventId,
      event_type: eventType,
      url,
      body,
      status: 'pending',
      attempt_count: 0,
      attempts: [],
      next_attempt_at: createdAt,
      delivered_at: null,
      dead_at: null,
      dead_reason: null,
      replay_count: 0,
      created_at: createdAt,
      updated_at: createdAt,
    }),
  ]);
  try {
    await deps.producer.enqueue('webhook.deliver', { deliveryId, tenantId: target.tenantId, replay: 0 });
  } catch (err) {
    deps.logger.warn({ delivery_id: deliveryId, err: String(err) }, 'enqueue failed; the sweeper will enqueue this delivery');
  }
  return { eventId, deliveryId, url, createdAt };
}
