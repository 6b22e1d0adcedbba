/**
 * Emitting a callback event (docs/contract.md §1.4): one enqueue, nothing else. The `webhook.deliver` job carries
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
import type { JobInput } from '../../queues/catalogue.js';
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
 * Where the catalogue sends `eventType` for this tenant as it is configured now, or null (no
 * receiver, or not an event of the catalogue). The delivery worker signs a job only when the job's
 * URL is this one: a job added or edited outside the API (the queue dashboard, a hand in Redis)
 * cannot borrow the tenant's secret to sign a request to a host of its choosing.
 */
export function catalogueUrl(tenant: CallbackTenant, eventType: string): string | null {
  if (!tenant.callback_url_base || !Object.hasOwn(CALLBACK_EVENTS, eventType)) return null;
  return callbackUrl(tenant.callback_url_base, CALLBACK_EVENTS[eventType as CallbackName].path(tenant));
}

/** The job that delivers (or, without a receiver, records) one event: what emitEvent enqueues. */
export type EventJob =
  { name: 'webhook.deliver'; payload: JobInput<'webhook.deliver'> } | { name: 'event.record'; payload: JobInput<'event.record'> };

/**
 * Builds the job of one callback of the catalogue without enqueueing it, for work that hands it on
 * (a chat message's store job carries its callback, enqueued once the message is in MongoDB).
 */
export function prepareEvent<N extends CallbackName>(
  tenant: CallbackTenant,
  eventType: N,
  data: CallbackData<N>,
  once?: EmitOnce,
): { job: EventJob; emitted: Emitted } {
  const createdAt = once?.at ?? new Date();
  const eventId = once ? idFor('evt', createdAt.getTime(), once.key) : newId('evt');
  const tenantId = tenant._id;
  if (!tenant.callback_url_base) {
    return {
      job: { name: 'event.record', payload: { eventId, tenantId, eventType, data, createdAt: createdAt.getTime() } },
      emitted: { eventId, deliveryId: null, url: null, createdAt },
    };
  }
  const url = catalogueUrl(tenant, eventType) ?? '';
  // These exact bytes are signed and sent on every attempt (docs/contract.md §1.4 body shape).
  const body = JSON.stringify({ event_id: eventId, event_type: eventType, tenant_id: tenantId, created_at: createdAt.toISOString(), data });
  const deliveryId = once ? idFor('dlv', createdAt.getTime(), once.key) : newId('dlv');
  return {
    job: {
      name: 'webhook.deliver',
      payload: { deliveryId, tenantId, replay: 0, eventId, eventType, url, body, createdAt: createdAt.getTime() },
    },
    emitted: { eventId, deliveryId, url, createdAt },
  };
}

/** Enqueues a job prepareEvent built. */
export async function enqueueEvent(producer: Producer, job: EventJob): Promise<void> {
  if (job.name === 'webhook.deliver') await producer.enqueue('webhook.deliver', job.payload);
  else await producer.enqueue('event.record', job.payload);
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
  const { job, emitted } = prepareEvent(tenant, eventType, data, once);
  await enqueueEvent(deps.producer, job);
  return emitted;
}
