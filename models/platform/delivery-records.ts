/**
 * The worker's side of the event and delivery store: records written once where possible, in
 * batches (group commit: one insertMany / bulkWrite per few milliseconds for all concurrent jobs).
 *
 *   first attempt   the event (insert) and the delivery with its first attempt and resulting state
 *                   (insert) — one write each, and for most deliveries the only ones;
 *   later attempts  one update each: the attempt appended, the state moved by the attempt's
 *                   transition (delivery-machine.ts), guarded on the transition's from-state
 *                   (`pending`, or `dead` for a dead letter retried from the dashboard).
 * A job run twice (a worker killed after recording, before completing the job) finds its documents
 * there: the duplicate insert becomes an update, and the repeated POST is recorded as the attempt it was.
 */
import { BatchInserter, BatchWriter, DuplicateKeyError } from './batch-insert.js';
import { DeliveryModel, type AttemptRecord } from './delivery.js';
import { deliveryGuard, deliveryMachine, type AttemptTransition } from './delivery-machine.js';
import { EventModel } from './event.js';

const events = new BatchInserter(() => EventModel.collection);
const deliveries = new BatchInserter(() => DeliveryModel.collection);
const updates = new BatchWriter(() => DeliveryModel.collection);

export type DeliveryFacts = {
  deliveryId: string;
  tenantId: string;
  eventId: string;
  eventType: string;
  url: string;
  body: string;
  createdAt: number;
  replay: number;
};

export type Outcome = {
  /** What the attempt leads to: its state is the transition's `to`, its guard the transition's `from`. */
  transition: AttemptTransition;
  attempt: AttemptRecord;
  nextAttemptAt: Date | null;
  deadReason: string | null;
};

const ignoreDuplicate = (err: unknown) => {
  if (!(err instanceof DuplicateKeyError)) throw err;
};

/** The event of a tenant without a receiver (or before its first delivery attempt): once. */
export function recordEvent(e: { eventId: string; tenantId: string; eventType: string; data: unknown; createdAt: number }): Promise<void> {
  return events
    .insertOnce({ _id: e.eventId, tenant_id: e.tenantId, event_type: e.eventType, data: e.data, created_at: new Date(e.createdAt) })
    .then(() => undefined);
}

function stateFields(o: Outcome) {
  const status = deliveryMachine.get(o.transition).to;
  return {
    status,
    next_attempt_at: o.nextAttemptAt,
    delivered_at: status === 'succeeded' ? o.attempt.at : null,
    dead_at: status === 'dead' ? o.attempt.at : null,
    dead_reason: o.deadReason,
  };
}

/**
 * Records one attempt and the state its transition leads to. `first`: the delivery's first attempt
 * (insert, already in that state).
 */
export async function recordAttempt(d: DeliveryFacts, o: Outcome, opts: { first: boolean }): Promise<void> {
  const now = new Date();
  const data = (JSON.parse(d.body) as { data?: unknown }).data ?? {};
  if (opts.first) {
    const inserted = await Promise.all([
      recordEvent({ eventId: d.eventId, tenantId: d.tenantId, eventType: d.eventType, data, createdAt: d.createdAt }),
      deliveries.insertOnce({
        _id: d.deliveryId,
        tenant_id: d.tenantId,
        event_id: d.eventId,
        event_type: d.eventType,
        url: d.url,
        body: d.body,
        attempt_count: 1,
        attempts: [o.attempt],
        replay_count: d.replay,
        ...stateFields(o),
        created_at: new Date(d.createdAt),
        updated_at: now,
      }),
    ]);
    if (inserted[1]) return;
    // Already there: this job ran before (a worker killed after recording); record it as a later attempt.
  }
  // A later attempt appends itself and moves the state. Upserted, with the event recorded (or found)
  // beside it: an earlier run of the job may have failed without recording anything — Redis
  // restarting under the worker, or a crash between the POST and the record — and then this attempt
  // is the delivery's first record. A delivery already final keeps its state: the guard does not
  // match, and the insert the upsert tries meets its _id (ignored).
  await Promise.all([
    opts.first ? null : recordEvent({ eventId: d.eventId, tenantId: d.tenantId, eventType: d.eventType, data, createdAt: d.createdAt }),
    updates
      .write({
        updateOne: {
          filter: {
            _id: d.deliveryId,
            tenant_id: d.tenantId,
            ...deliveryGuard(o.transition),
          },
          update: {
            $push: { attempts: o.attempt },
            $inc: { attempt_count: 1 },
            $set: { ...stateFields(o), updated_at: now },
            $setOnInsert: {
              event_id: d.eventId,
              event_type: d.eventType,
              url: d.url,
              body: d.body,
              replay_count: d.replay,
              created_at: new Date(d.createdAt),
            },
          } as never,
          upsert: true,
        },
      })
      .catch(ignoreDuplicate),
  ]);
}

/** Waits for the writes handed in so far (shutdown). */
export async function flushDeliveryRecords(): Promise<void> {
  await Promise.all([events.flush(), deliveries.flush(), updates.flush()]);
}
