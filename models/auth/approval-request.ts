/**
 * Device approval requests: the one primitive behind everything a paired device is asked or told.
 * `kind` says what it is: `auth-challenge` (push MFA, docs/contract.md §2.2) and `security-alert` (passive,
 * no answer); QR-login approval and sudo approvals reuse it with their own kinds.
 *
 * This collection is the durable history. The live request is a Redis hash (approval-state.ts):
 * created there by the API, answered there atomically, and written here by the workers — once
 * when created (approval.persist) and once when final (approval.finalize), both idempotent.
 *
 * An answerable request has participants (people: a relay_user link each, with the devices it was
 * sent to) and a threshold: it ends
 *   approved  when `threshold` distinct people approved (one person with three devices counts once),
 *   denied    as soon as the threshold can no longer be reached (or at the first denial, if asked),
 *   expired   at its expiry, by a delayed job, if neither happened,
 *   cancelled when the tenant withdraws it.
 * A security alert is born `informational` and never changes.
 *
 * Per-device push delivery lives in its own small collection (push_deliveries), one document per
 * (request, device), so the push worker updates it by _id (no positional array updates, which
 * FerretDB v1 does not all support).
 */
import { Schema, model, type InferSchemaType } from 'mongoose';
import { baseSchemaOptions } from '../platform/common.js';
import type { TenantId } from '../platform/tenant-id.js';

export const REQUEST_KINDS = ['auth-challenge', 'security-alert', 'sudo'] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];
export const REQUEST_STATUSES = ['pending', 'approved', 'denied', 'expired', 'cancelled', 'informational'] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];
export type FinalStatus = Exclude<RequestStatus, 'pending' | 'informational'>;

const resolutionSchema = new Schema(
  {
    device_id: { type: String, required: true },
    decision: { type: String, enum: ['approve', 'deny'], required: true },
    answer: { type: String, default: null },
    /** goldenNumber with an expected number: whether the device picked it. Null when not checked. */
    number_matched: { type: Boolean, default: null },
    reason: { type: String, default: null },
    /** The device's signature over the answer (device-protocol.ts), passed on to the tenant. */
    device_signature: { type: String, required: true },
    signed_at_ms: { type: Number, required: true },
  },
  { _id: false },
);

const answerSchema = new Schema(
  {
    /** The person who answered (participant key: `{tenant_id}/{relay_user_linked_id}`). */
    person: { type: String, required: true },
    relay_user_linked_id: { type: String, required: true },
    tenant_id: { type: String, required: true },
    device_id: { type: String, required: true },
    decision: { type: String, enum: ['approve', 'deny'], required: true },
    /** What the answer counts as after the relay's checks: a wrong goldenNumber pick is a deny. */
    effect: { type: String, enum: ['approve', 'deny'], required: true },
    answer: { type: String, default: null },
    number_matched: { type: Boolean, default: null },
    reason: { type: String, default: null },
    device_signature: { type: String, required: true },
    signed_at_ms: { type: Number, required: true },
    display_hash: { type: String, default: null },
    at: { type: Date, required: true },
  },
  { _id: false },
);

const participantSchema = new Schema(
  {
    person: { type: String, required: true },
    tenant_id: { type: String, required: true },
    relay_user_linked_id: { type: String, required: true },
    device_ids: { type: [String], default: [] },
  },
  { _id: false },
);

const requestSchema = new Schema(
  {
    _id: { type: String, required: true }, // chg_… (auth challenge) / alr_… (security alert)
    tenant_id: { type: String, required: true },
    kind: { type: String, enum: REQUEST_KINDS, required: true },
    pairing_id: { type: String, required: true },
    user_socket_hash: { type: String, required: true },
    relay_user_linked_id: { type: String, required: true },
    /** The tenant's correlation id; unique per tenant. */
    instruction_id: { type: String, required: true },
    /** What the device shows: kind-specific, validated by the route that created it. */
    content: { type: Schema.Types.Mixed, required: true },
    /** goldenNumber: the number the tenant expects; never sent to the device. */
    expected_number: { type: String, default: null },
    status: { type: String, enum: REQUEST_STATUSES, required: true },
    /** Every device the request was sent to (all participants'). */
    device_ids: { type: [String], default: [] },
    participants: { type: [participantSchema], default: [] },
    /** Distinct people whose approval ends it approved (1 for a push challenge). */
    threshold: { type: Number, required: true, default: 1 },
    deny_on_first_denial: { type: Boolean, default: false },
    answers: { type: [answerSchema], default: [] },
    /** Also send the ApprovalEvent to the tenant's sudo callback path when final. */
    approval_event: { type: Boolean, default: false },
    expires_at: { type: Date, required: true },
    resolved_at: { type: Date, default: null },
    /** The answer that decided it (null when expired or cancelled). */
    resolution: { type: resolutionSchema, default: null },
    /** Callback event emitted on resolution (evt_…). */
    event_id: { type: String, default: null },
  },
  { ...baseSchemaOptions, collection: 'approval_requests' },
);
// Serves fetch/delivery-status by instruction_id once the request has left Redis (newest first).
// Not unique: an instruction_id is refused again only while its request is live (approval-state.ts).
requestSchema.index({ tenant_id: 1, instruction_id: 1, created_at: -1 });

export type ApprovalRequestDoc = InferSchemaType<typeof requestSchema> & { _id: string; created_at: Date; updated_at: Date };
export const ApprovalRequestModel = model('ApprovalRequest', requestSchema);

export const PUSH_STATUSES = ['queued', 'sent', 'failed', 'invalid_token', 'no_token', 'skipped'] as const;
export type PushStatus = (typeof PUSH_STATUSES)[number];

const pushDeliverySchema = new Schema(
  {
    _id: { type: String, required: true }, // `${request_id}:${device_id}`
    tenant_id: { type: String, required: true },
    request_id: { type: String, required: true },
    device_id: { type: String, required: true },
    /** queued → sent | failed | invalid_token | no_token | skipped (request no longer pending). */
    status: { type: String, enum: PUSH_STATUSES, required: true, default: 'queued' },
    fcm_message_id: { type: String, default: null },
    error_code: { type: String, default: null },
    attempts: { type: Number, required: true, default: 0 },
    sent_at: { type: Date, default: null },
    settled_at: { type: Date, default: null },
  },
  { ...baseSchemaOptions, collection: 'push_deliveries' },
);
// Serves the per-device delivery list of one request (send answer, delivery-status).
pushDeliverySchema.index({ tenant_id: 1, request_id: 1 });

export type PushDeliveryDoc = InferSchemaType<typeof pushDeliverySchema> & { _id: string; created_at: Date; updated_at: Date };
export const PushDeliveryModel = model('PushDelivery', pushDeliverySchema);

export const pushDeliveryId = (requestId: string, deviceId: string): string => `${requestId}:${deviceId}`;

export async function findRequestByInstruction(tenantId: TenantId, instructionId: string): Promise<ApprovalRequestDoc | null> {
  return ApprovalRequestModel.findOne({ tenant_id: tenantId, instruction_id: instructionId })
    .sort({ created_at: -1 })
    .lean<ApprovalRequestDoc>();
}

export async function findRequest(tenantId: string, requestId: string): Promise<ApprovalRequestDoc | null> {
  return ApprovalRequestModel.findOne({ _id: requestId, tenant_id: tenantId }).lean<ApprovalRequestDoc>();
}

export async function pushDeliveriesOf(tenantId: TenantId, requestId: string): Promise<PushDeliveryDoc[]> {
  return PushDeliveryModel.find({ tenant_id: tenantId, request_id: requestId }).sort({ _id: 1 }).lean<PushDeliveryDoc[]>();
}
