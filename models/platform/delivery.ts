/**
 * One delivery per (event, endpoint), with every attempt recorded. The worker moves it through
 * explicit states with guarded updates (never a blind overwrite):
 *   pending → succeeded | dead (retries exhausted, or a permanent refusal)
 * and a replay from the dead-letter store puts it back to pending.
 */
import { Schema, model, type InferSchemaType } from 'mongoose';
import { baseSchemaOptions } from './common.js';

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'dead'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const ATTEMPT_OUTCOMES = ['success', 'http_error', 'network_error', 'timeout', 'refused'] as const;

const attemptSchema = new Schema(
  {
    n: { type: Number, required: true },
    at: { type: Date, required: true },
    duration_ms: { type: Number, required: true },
    outcome: { type: String, enum: ATTEMPT_OUTCOMES, required: true },
    status_code: { type: Number, default: null },
    error: { type: String, default: null },
    response_body: { type: String, default: null }, // first 512 bytes only
  },
  { _id: false },
);

const deliverySchema = new Schema(
  {
    _id: { type: String, required: true }, // dlv_…
    tenant_id: { type: String, required: true },
    event_id: { type: String, required: true },
    event_type: { type: String, required: true },
    url: { type: String, required: true },
    /** The exact JSON bytes sent: every retry signs and sends the same body. */
    body: { type: String, required: true },
    status: { type: String, enum: DELIVERY_STATUSES, required: true, default: 'pending' },
    attempt_count: { type: Number, required: true, default: 0 },
    attempts: { type: [attemptSchema], default: [] },
    next_attempt_at: { type: Date, default: null },
    delivered_at: { type: Date, default: null },
    dead_at: { type: Date, default: null },
    dead_reason: { type: String, default: null },
    replay_count: { type: Number, required: true, default: 0 },
  },
  { ...baseSchemaOptions, collection: 'deliveries' },
);
// Serves "deliveries of this event" for a tenant.
deliverySchema.index({ tenant_id: 1, event_id: 1 });
// Serves the sweeper that re-enqueues pending deliveries whose job went missing.
deliverySchema.index({ status: 1, next_attempt_at: 1 });
// Serves the dead-letter list and replay by time range.
deliverySchema.index({ tenant_id: 1, status: 1, dead_at: -1 });

export type DeliveryDoc = InferSchemaType<typeof deliverySchema> & { _id: string; created_at: Date; updated_at: Date };
export type AttemptRecord = InferSchemaType<typeof attemptSchema>;
export const DeliveryModel = model('Delivery', deliverySchema);

/** The job that attempts a recorded delivery again (a replay, or the sweeper's re-enqueue). */
export function deliveryJobOf(d: DeliveryDoc) {
  return {
    deliveryId: d._id,
    tenantId: d.tenant_id,
    replay: d.replay_count,
    eventId: d.event_id,
    eventType: d.event_type,
    url: d.url,
    body: d.body,
    createdAt: d.created_at.getTime(),
    priorAttempts: d.attempt_count,
  };
}

export function toPublicDelivery(d: DeliveryDoc) {
  return {
    delivery_id: d._id,
    event_id: d.event_id,
    event_type: d.event_type,
    url: d.url,
    status: d.status,
    attempt_count: d.attempt_count,
    attempts: d.attempts.map((a) => ({
      n: a.n,
      at: a.at.toISOString(),
      duration_ms: a.duration_ms,
      outcome: a.outcome,
      status_code: a.status_code ?? null,
      error: a.error ?? null,
      response_body: a.response_body ?? null,
    })),
    next_attempt_at: d.next_attempt_at?.toISOString() ?? null,
    delivered_at: d.delivered_at?.toISOString() ?? null,
    dead_at: d.dead_at?.toISOString() ?? null,
    dead_reason: d.dead_reason ?? null,
    replay_count: d.replay_count,
    created_at: d.created_at.toISOString(),
  };
}
