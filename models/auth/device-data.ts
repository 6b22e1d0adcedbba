/**
 * Devices as the API reads and writes them: every function takes the proven tenant first and puts it
 * in the filter (models/platform/tenant-id.ts), so another tenant's device is not found.
 */
import type { TenantId } from '../platform/tenant-id.js';
import { DeviceModel, type DeviceDoc } from './device.js';

/** Every device of a pairing, active and revoked, oldest first. */
export function devicesOfPairing(tenant: TenantId, pairingId: string): Promise<DeviceDoc[]> {
  return DeviceModel.find({ tenant_id: tenant, pairing_id: pairingId }).sort({ _id: 1 }).lean<DeviceDoc[]>();
}

/** One device, when it belongs to this user (by user_socket_hash) in this tenant. */
export function findUserDevice(tenant: TenantId, userSocketHash: string, deviceId: string): Promise<DeviceDoc | null> {
  return DeviceModel.findOne({ _id: deviceId, tenant_id: tenant, user_socket_hash: userSocketHash }).lean<DeviceDoc>();
}

/** Records when a device was last heard from (callers throttle this: a poll is not worth a write each time). */
export async function markDeviceSeen(tenant: TenantId, deviceId: string, at: Date): Promise<void> {
  await DeviceModel.updateOne({ _id: deviceId, tenant_id: tenant }, { $set: { last_seen_at: at } });
}
