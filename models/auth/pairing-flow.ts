/**
 * The life of a pairing (docs/contract.md §2.1), shared by the backend and device routes:
 *   1. prepare: the backend's intent is stored and a single-use pairing proof minted (~5 min);
 *   2. redeem: a device presents the proof (authenticated by api/principals/pairing-proof.ts) and
 *      becomes a device of the user's pairing: the intent moves pending → consumed once, the
 *      relay_user link and the pairing are made or joined, the device stored with a fresh session;
 *      the user's other devices get a `new_device` security alert and the tenant a callback;
 *   3. revoke: a device unpairs itself or the backend revokes it; the tenant gets a callback.
 */
import { claimOnce } from '../../platform/claims.js';
import { DomainError } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import { mintDeviceSessionToken, mintToken, type TokenClaims } from '../../platform/tokens.js';
import type { FlowDeps } from '../platform/deps.js';
import { emitEvent } from '../platform/emit-event.js';
import { upsertRelayUserLink } from '../platform/relay-user-link.js';
import type { TenantDoc } from '../platform/tenant.js';
import type { TenantStore } from '../platform/tenant-store.js';
import { createApprovalRequest } from './approval-flow.js';
import { DeviceModel, activeDevicesOfPairing, hashSessionToken, type DeviceDoc, type DevicePlatform } from './device.js';
import { denyDeviceSession, forgetDeviceSession } from './device-session-cache.js';
import { invalidateFanout, loadFanout } from './fanout-cache.js';
import { ensureAuthIndexes } from './indexes.js';
import { deviceMachine, pairingIntentMachine, statusFilter, type DeviceActor } from './pairing-machine.js';
import { PairingIntentModel, upsertPairing, type PairingDoc, type PairingIntentDoc } from './pairing.js';
import { forgetLinkPairings } from './sudo-flow.js';
import { tenantOfRecord } from '../platform/tenant-id.js';

export type PairingRequest = {
  user_socket_hash: string;
  backend_user_id: string;
  display_name: string;
  user_email?: string | null;
  user_phone?: string | null;
  first_name?: string | null;
  last_name?: string | null;
  display_logo_url?: string | null;
};

/** Step 1: the intent, and the proof the backend forwards to the device. */
export async function preparePairing(
  deps: FlowDeps,
  tenantId: string,
  user: PairingRequest,
): Promise<{ pairingProof: string; expiresAt: Date; ttlSeconds: number }> {
  const ttl = deps.config.pairingProofTtlSeconds;
  await ensureAuthIndexes();
  const intentId = newId('pin');
  const { token, expiresAt } = mintToken(deps.config.secretsMasterKey, 'pairing', { tid: tenantId, pin: intentId }, ttl);
  await PairingIntentModel.create({
    _id: intentId,
    tenant_id: tenantId,
    user_socket_hash: user.user_socket_hash,
    backend_user_id: user.backend_user_id,
    display_name: user.display_name,
    user_email: user.user_email ?? null,
    user_phone: user.user_phone ?? null,
    first_name: user.first_name ?? null,
    last_name: user.last_name ?? null,
    display_logo_url: user.display_logo_url ?? null,
    expires_at: expiresAt,
  });
  return { pairingProof: token, expiresAt, ttlSeconds: ttl };
}

export type NewDevice = {
  public_key: Record<string, unknown>;
  platform: DevicePlatform;
  device_name: string;
  fcm_token?: string | null;
};

export type Redeemed = { sessionToken: string; expiresAt: Date; deviceId: string; pairing: PairingDoc };

const alreadyUsed = () => new DomainError('GONE', 'This pairing proof was already used; ask for a new one.');

/** Step 2: the proof's intent becomes a device of the user's pairing, once. */
export async function redeemPairingProof(
  deps: FlowDeps,
  tenant: TenantDoc,
  proof: TokenClaims<'pairing'>,
  device: NewDevice,
): Promise<Redeemed> {
  // 1. Single use: pending → consumed, once (claimed in Redis first: platform/claims.ts says why).
  const redeem = pairingIntentMachine.get('redeem');
  const deviceId = newId('dev');
  const now = new Date();
  const claimTtl = proof.exp * 1000 - now.getTime() + 60_000;
  if (!(await claimOnce(deps.redis, deps.config.queuePrefix, `pairing-intent:${proof.tid}:${proof.pin}`, claimTtl))) throw alreadyUsed();
  const intent = await PairingIntentModel.findOneAndUpdate(
    { _id: proof.pin, tenant_id: proof.tid, status: statusFilter(redeem.from), expires_at: { $gt: now } },
    { $set: { status: redeem.to, consumed_at: now, consumed_by_device_id: deviceId } },
    { new: true },
  ).lean<PairingIntentDoc>();
  if (!intent) {
    const seen = await PairingIntentModel.findOne({ _id: proof.pin, tenant_id: proof.tid }).lean<PairingIntentDoc>();
    if (!seen) throw new DomainError('INVALID_TOKEN', 'Invalid pairing proof.');
    if (!(redeem.from as readonly string[]).includes(seen.status)) throw alreadyUsed();
    throw new DomainError('EXPIRED', 'This pairing proof has expired; ask for a new one.');
  }

  // 2. The link, the pairing, the device.
  await ensureAuthIndexes();
  // The intent's tenant, as the relay stored it when the proven tenant asked for the pairing.
  const tenantId = tenantOfRecord(intent.tenant_id);
  const link = await upsertRelayUserLink(tenantId, intent.backend_user_id, 'pairing', intent.display_name);
  const pairing = await upsertPairing(tenantId, newId('pair'), {
    user_socket_hash: intent.user_socket_hash,
    backend_user_id: intent.backend_user_id,
    display_name: intent.display_name,
    user_email: intent.user_email ?? null,
    user_phone: intent.user_phone ?? null,
    first_name: intent.first_name ?? null,
    last_name: intent.last_name ?? null,
    display_logo_url: intent.display_logo_url ?? null,
    relay_user_linked_id: link._id.toString(),
  });
  const others = await activeDevicesOfPairing(tenantId, pairing._id);
  const sessionToken = mintDeviceSessionToken(deps.config.secretsMasterKey);
  const expiresAt = new Date(now.getTime() + deps.config.deviceSessionTtlSeconds * 1000);
  await DeviceModel.create({
    _id: deviceId,
    tenant_id: tenantId,
    pairing_id: pairing._id,
    user_socket_hash: pairing.user_socket_hash,
    platform: device.platform,
    device_name: device.device_name,
    public_key_jwk: device.public_key,
    fcm_token: device.fcm_token ?? null,
    fcm_token_updated_at: device.fcm_token ? now : null,
    session_token_hash: hashSessionToken(sessionToken),
    session_expires_at: expiresAt,
    last_seen_at: now,
  });
  await invalidateFanout(deps.redis, deps.config.queuePrefix, tenantId, pairing.user_socket_hash);
  // A first challenge usually follows a pairing at once: load the new fan-out now (a load that races
  // another writer caches nothing, see fanout-cache.ts), so the challenge does not scan for it.
  await loadFanout(deps.redis, deps.config.queuePrefix, tenantId, pairing.user_socket_hash).catch((err: unknown) =>
    deps.logger.warn({ err: String(err) }, 'fan-out not cached after pairing; the first challenge loads it'),
  );
  await forgetLinkPairings(deps, tenantId, pairing.relay_user_linked_id);

  // 3. Tell the user's other devices, and the tenant.
  if (others.length > 0) {
    await createApprovalRequest(deps, {
      tenantId,
      kind: 'security-alert',
      pairing,
      devices: others,
      content: {
        alert_type: 'new_device',
        title: 'New device paired',
        body: `${device.device_name} (${device.platform}) was paired with your account. If this was not you, contact ${tenant.branding_display_name ?? tenant.tenant_name}.`,
        new_device_id: deviceId,
      },
      ttlSeconds: 7 * 86400,
    });
  }
  await emitEvent(deps, tenant, 'pairing.device_added', {
    user_socket_hash: pairing.user_socket_hash,
    backend_user_id: pairing.backend_user_id,
    relay_user_linked_id: pairing.relay_user_linked_id,
    pairing_id: pairing._id,
    device_id: deviceId,
    platform: device.platform,
    device_name: device.device_name,
    device_count: others.length + 1,
  });
  return { sessionToken, expiresAt, deviceId, pairing };
}

/** Step 3: the device stops working at once (session, key, pushes). Idempotent. */
export async function revokeDevice(deps: FlowDeps & { tenants: TenantStore }, device: DeviceDoc, by: DeviceActor): Promise<DeviceDoc> {
  const revoke = deviceMachine.get('revoke');
  // Refused first (fail closed): no crash between here and the MongoDB write leaves the session usable.
  if ((revoke.from as readonly string[]).includes(device.status))
    await denyDeviceSession(deps.redis, deps.config.queuePrefix, device.session_token_hash);
  const updated = await DeviceModel.findOneAndUpdate(
    { _id: device._id, tenant_id: device.tenant_id, status: statusFilter(revoke.from) },
    { $set: { status: revoke.to, revoked_at: new Date(), revoked_by: by, fcm_token: null } },
    { new: true },
  ).lean<DeviceDoc>();
  if (!updated) return device; // already revoked
  await invalidateFanout(deps.redis, deps.config.queuePrefix, device.tenant_id, device.user_socket_hash);
  const entry = await deps.tenants.get(device.tenant_id);
  if (entry)
    await emitEvent(deps, entry.tenant, 'pairing.device_removed', {
      user_socket_hash: device.user_socket_hash,
      pairing_id: device.pairing_id,
      device_id: device._id,
      removed_by: by,
    });
  return updated;
}

/** A new session token for the device; the presented one stops working at once (guarded on its hash). */
export async function rotateDeviceSession(deps: FlowDeps, device: DeviceDoc): Promise<{ sessionToken: string; expiresAt: Date } | null> {
  const sessionToken = mintDeviceSessionToken(deps.config.secretsMasterKey);
  const now = new Date();
  const expiresAt = new Date(now.getTime() + deps.config.deviceSessionTtlSeconds * 1000);
  const ok = await DeviceModel.findOneAndUpdate(
    { _id: device._id, tenant_id: device.tenant_id, status: 'active', session_token_hash: device.session_token_hash },
    { $set: { session_token_hash: hashSessionToken(sessionToken), session_expires_at: expiresAt, last_seen_at: now } },
    { new: true },
  ).lean();
  // The presented token stops working at once (its cached device says it is still the session).
  await forgetDeviceSession(deps.redis, deps.config.queuePrefix, device.session_token_hash);
  return ok ? { sessionToken, expiresAt } : null;
}

/** The device's FCM registration token replaced (or cleared: the device then polls). */
export async function updatePushToken(deps: FlowDeps, device: DeviceDoc, fcmToken: string | null): Promise<void> {
  await DeviceModel.updateOne(
    { _id: device._id, tenant_id: device.tenant_id, status: 'active' },
    {
      $set: {
        fcm_token: fcmToken,
        fcm_token_updated_at: new Date(),
        fcm_token_pruned_reason: null,
        fcm_token_pruned_at: null,
        last_seen_at: new Date(),
      },
    },
  );
  await forgetDeviceSession(deps.redis, deps.config.queuePrefix, device.session_token_hash);
  await invalidateFanout(deps.redis, deps.config.queuePrefix, device.tenant_id, device.user_socket_hash);
}
