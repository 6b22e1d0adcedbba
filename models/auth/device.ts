/**
 * Devices (docs/contract.md §2.1): an authenticator installed on a phone (or the reference CLI), belonging to
 * one pairing. It holds:
 *  - its ECDSA P-256 public key (JWK), registered at pairing: every later device request and every
 *    answer is signed with the matching private key, which never leaves the device;
 *  - the SHA-256 of its opaque device_session_token (the token itself is never stored);
 *  - its FCM registration token, pruned (set to null) when FCM reports it unregistered/invalid.
 * States: active → revoked (unpaired by the device, or revoked by the tenant's backend).
 */
import { createHash } from 'node:crypto';
import { Schema, model, type InferSchemaType } from 'mongoose';
import { baseSchemaOptions } from '../platform/common.js';
import type { TenantId } from '../platform/tenant-id.js';

export const DEVICE_PLATFORMS = ['android', 'ios', 'web', 'cli'] as const;
export type DevicePlatform = (typeof DEVICE_PLATFORMS)[number];

const deviceSchema = new Schema(
  {
    _id: { type: String, required: true }, // dev_…
    tenant_id: { type: String, required: true },
    pairing_id: { type: String, required: true },
    user_socket_hash: { type: String, required: true },
    platform: { type: String, enum: DEVICE_PLATFORMS, required: true },
    device_name: { type: String, required: true },
    public_key_jwk: { type: Schema.Types.Mixed, required: true },
    fcm_token: { type: String, default: null },
    fcm_token_updated_at: { type: Date, default: null },
    /** Why the FCM token was dropped (e.g. UNREGISTERED), kept for the backend's device list. */
    fcm_token_pruned_reason: { type: String, default: null },
    fcm_token_pruned_at: { type: Date, default: null },
    session_token_hash: { type: String, required: true },
    session_expires_at: { type: Date, required: true },
    status: { type: String, enum: ['active', 'revoked'], required: true, default: 'active' },
    revoked_at: { type: Date, default: null },
    revoked_by: { type: String, enum: ['device', 'backend', null], default: null },
    last_seen_at: { type: Date, default: null },
  },
  { ...baseSchemaOptions, collection: 'devices' },
);
// Serves the bearer lookup of every device request (the hash of the presented token).
deviceSchema.index({ session_token_hash: 1 }, { unique: true });
// Serves the fan-out of a challenge and the backend's device list (a pairing's devices).
deviceSchema.index({ tenant_id: 1, pairing_id: 1, status: 1 });
// Serves send/auth-challenge, which looks the devices up by user in parallel with the pairing.
deviceSchema.index({ tenant_id: 1, user_socket_hash: 1, status: 1 });

export type DeviceDoc = InferSchemaType<typeof deviceSchema> & { _id: string; created_at: Date; updated_at: Date };
export const DeviceModel = model('Device', deviceSchema);

export const hashSessionToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export async function activeDevicesOfPairing(tenantId: string, pairingId: string): Promise<DeviceDoc[]> {
  return DeviceModel.find({ tenant_id: tenantId, pairing_id: pairingId, status: 'active' }).sort({ _id: 1 }).lean<DeviceDoc[]>();
}

export async function activeDevicesOfUser(tenantId: TenantId, userSocketHash: string): Promise<DeviceDoc[]> {
  return DeviceModel.find({ tenant_id: tenantId, user_socket_hash: userSocketHash, status: 'active' }).sort({ _id: 1 }).lean<DeviceDoc[]>();
}

export async function findDevice(tenantId: string, deviceId: string): Promise<DeviceDoc | null> {
  return DeviceModel.findOne({ _id: deviceId, tenant_id: tenantId }).lean<DeviceDoc>();
}

/** The shape a tenant's backend sees: never the session hash, never the whole FCM token. */
export function toPublicDevice(d: DeviceDoc) {
  return {
    device_id: d._id,
    pairing_id: d.pairing_id,
    platform: d.platform,
    device_name: d.device_name,
    status: d.status,
    push_enabled: Boolean(d.fcm_token),
    fcm_token_pruned_reason: d.fcm_token_pruned_reason ?? null,
    last_seen_at: d.last_seen_at?.toISOString() ?? null,
    revoked_at: d.revoked_at?.toISOString() ?? null,
    created_at: d.created_at.toISOString(),
  };
}
