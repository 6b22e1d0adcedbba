/**
 * Emitting a callback event (SPEC §1.4): one enqueue, nothing else. The `webhook.deliver` job carries
 * what the delivery needs — the exact body to sign and send, the URL, the ids — so neither the API
 * nor the worker reads MongoDB for it; the worker records the event, the delivery and each attempt
 * in MongoDB, in batches (delivery-records.ts). A tenant without a callback_url_base gets the event
 * recorded (`event.record`), and no delivery.
 *
 * Invariant relied on: once this returns, the job is in Redis (AOF, noeviction), so the event will be
 * delivered and recorded even if every process dies now. A failed enqueue throws (the caller answers
 * 503: nothing was accepted).
 */
import { idFor, newId } from '../../platform/ids.js';
import type { Logger } from '../../platform/logger.js';
import type { Producer } from '../../queues/producer.js';
import { CALLBACK_EVENTS, type CallbackData, type CallbackName, type CallbackTenant } from './callback-catalogue.js';

/**
 * For an event that must be emitted once even if the work emitting it runs twice (a retried job):
 * its ids derive from `key` and `at`, so a second emit enqueues the same job id (a no-op while the job
 * is known) and the worker finds the records already there.
 */
export type EmitOnce = { key: string; at: Date };

export type Emitted = { eventId: string; deliveryId: string | null; url: string | null; createdAt: Date };

export function callbackUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path.startsWith('/') ? path : `/${path}`}`;
}

/**
 * Emits one callback of the catalogue to a tenant: `data` is typed by the event's entry, and the
 * destination is the tenant's callback_url_base plus the event's path.
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
  if (!tenant.callback_url_base) {
    await deps.producer.enqueue('event.record', { eventId, tenantId, eventType, data, createdAt: createdAt.getTime() });
    return { eventId, deliveryId: null, url: null, createdAt };
  }
  const url = callbackUrl(tenant.callback_url_base, CALLBACK_EVENTS[eventType].path(tenant));
  // These exact bytes are signed and sent on every attempt (SPEC §1.4 body shape).
  const body = JSON.stringify({ event_id: eventId, event_type: eventType, tenant_id: tenantId, created_at: createdAt.toISOString(), data });
  const deliveryId = once ? idFor('dlv', createdAt.getTime(), once.key) : newId('dlv');
  await deps.producer.enqueue('webhook.deliver', {
    deliveryId,
    tenantId,
    replay: 0,
    eventId,
    eventType,
    url,
    body,
    createdAt: createdAt.getTime(),
  });
  return { eventId, deliveryId, url, createdAt };
}
