/**
 * Device approval requests: the one primitive behind everything a paired device is asked or told.
 * `kind` says what it is: `auth-challenge` (push MFA, SPEC §2.2) and `security-alert` (passive,
 * no answer) today; QR-login approval and sudo approvals reuse it later with their own kinds.
 *
 * An answerable request moves once, by a guarded update (never a blind overwrite):
 *   pending → approved | denied | expired
 * A security alert is born `informational` and never changes.
 *
 * Per-device push delivery lives in its own small collection (push_deliveries), one document per
 * (request, device), so the push worker updates it by _id (no positional array updates, which
 * FerretDB v1 does not all support).
 */
import { Schema, model, type InferSchemaType } from 'mongoose';
import { baseSchemaOptions } from '../platform/common.js';

export const REQUEST_KINDS = ['auth-challenge', 'security-alert'] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];
export const REQUEST_STATUSES = ['pending', 'approved', 'denied', 'expired', 'informational'] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

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
    device_ids: { type: [String], default: [] },
    expires_at: { type: Date, required: true },
    resolved_at: { type: Date, default: null },
    resolution: { type: resolutionSchema, default: null },
    /** Callback event emitted on resolution (evt_…). */
    event_id: { type: String, default: null },
  },
  { ...baseSchemaOptions, collection: 'approval_requests' },
);
// Serves fetch/delivery-status by instruction_id and refuses a duplicate instruction_id.
requestSchema.index({ tenant_id: 1, instruction_id: 1 }, { unique: true });
// Serves a device's poll: open requests of its pairing, newest first.
requestSchema.index({ tenant_id: 1, pairing_id: 1, status: 1, expires_at: -1 });

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

export async function findRequestByInstruction(tenantId: string, instructionId: string): Promise<ApprovalRequestDoc | null> {
  return ApprovalRequestModel.findOne({ tenant_id: tenantId, instruction_id: instructionId }).lean<ApprovalRequestDoc>();
}

export async function pushDeliveriesOf(tenantId: string, requestId: string): Promise<PushDeliveryDoc[]> {
  return PushDeliveryModel.find({ tenant_id: tenantId, request_id: requestId }).sort({ _id: 1 }).lean<PushDeliveryDoc[]>();
}
