/**
 * Emitting a callback event (SPEC §1.4): store the event, create one delivery per endpoint, enqueue
 * the delivery jobs. Never inline HTTP: the worker delivers.
 *
 * Invariant relied on: once this returns, the delivery is in MongoDB as `pending`, so it will be
 * delivered even if the enqueue below failed (the maintenance sweeper re-enqueues pending
 * deliveries whose job went missing). Nothing accepted is lost.
 */
import { BatchInserter, DuplicateKeyError } from './batch-insert.js';
import { DeliveryModel } from './delivery.js';
import { EventModel } from './event.js';
import type { Logger } from '../../platform/logger.js';
import { idFor, newId } from '../../platform/ids.js';
import type { Producer } from '../../queues/producer.js';
import { CALLBACK_EVENTS, type CallbackData, type CallbackName, type CallbackTenant } from './callback-catalogue.js';

// Raw collection inserts (no Mongoose document): every field, defaults included, is written above.
const eventInserts = new BatchInserter(() => EventModel.collection);
const deliveryInserts = new BatchInserter(() => DeliveryModel.collection);

/**
 * For an event that must be emitted once even if the work emitting it runs twice (a retried job):
 * its ids derive from `key` and `at`, so a second emit finds them stored and only re-enqueues the
 * delivery job, whose fixed id makes that a no-op too.
 */
export type EmitOnce = { key: string; at: Date };

/** A second emit of the same EmitOnce event: its document is there already. */
function alreadyStored(err: unknown): void {
  if (!(err instanceof DuplicateKeyError)) throw err;
}

export type Emitted = { eventId: string; deliveryId: string | null; url: string | null; createdAt: Date };

export function callbackUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path.startsWith('/') ? path : `/${path}`}`;
}

/**
 * Emits one callback of the catalogue to a tenant: `data` is typed by the event's entry, and the
 * destination is the tenant's callback_url_base plus the event's path. A tenant without a
 * callback_url_base gets the event stored, and no delivery.
 */
export async function emitEvent<N extends CallbackName>(
  deps: { producer: Producer; logger: Logger },
  tenant: CallbackTenant,
  eventType: N,
  data: CallbackData<N>,
  once?: EmitOnce,
): Promise<Emitted> {
  const createdAt = once?.at ?? new Date();
  const eventId = once ? idFor('evt', createdAt.getTime(), once.key) : newId('evt');
  const tenantId = tenant._id;
  const event = { _id: eventId, tenant_id: tenantId, event_type: eventType, data, created_at: createdAt };
  if (!tenant.callback_url_base) {
    await eventInserts.insert(event).catch(alreadyStored);
    return { eventId, deliveryId: null, url: null, createdAt };
  }

  const url = callbackUrl(tenant.callback_url_base, CALLBACK_EVENTS[eventType].path(tenant));
  // These exact bytes are signed and sent on every attempt (SPEC §1.4 body shape).
  const body = JSON.stringify({
    event_id: eventId,
    event_type: eventType,
    tenant_id: tenantId,
    created_at: createdAt.toISOString(),
    data,
  });
  const deliveryId = once ? idFor('dlv', createdAt.getTime(), once.key) : newId('dlv');
  // The two documents are independent: written side by side, each group-committed with the
  // concurrent requests' documents (one insertMany per few ms instead of one round trip each).
  await Promise.all([
    eventInserts.insert(event).catch(alreadyStored),
    deliveryInserts
      .insert({
        _id: deliveryId,
        tenant_id: tenantId,
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
      })
      .catch(alreadyStored),
  ]);
  try {
    await deps.producer.enqueue('webhook.deliver', { deliveryId, tenantId, replay: 0 });
  } catch (err) {
    deps.logger.warn({ delivery_id: deliveryId, err: String(err) }, 'enqueue failed; the sweeper will enqueue this delivery');
  }
  return { eventId, deliveryId, url, createdAt };
}
