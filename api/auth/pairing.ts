/**
 * Pairing and devices (SPEC §2.1): the backend prepares a pairing and gets a single-use proof; the
 * device redeems it with its public key and FCM token for a device_session_token; devices refresh,
 * update their push token and unpair; backends list and revoke a user's devices.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { claimOnce, createApprovalRequest } from '../../models/auth/approval-flow.js';
import { DeviceModel, activeDevicesOfPairing, hashSessionToken, toPublicDevice, type DeviceDoc } from '../../models/auth/device.js';
import { PairingIntentModel, findPairing, upsertPairing, type PairingIntentDoc } from '../../models/auth/pairing.js';
import { upsertRelayUserLink } from '../../models/platform/relay-user-link.js';
import { ensureAuthIndexes } from '../../models/auth/indexes.js';
import { invalidateFanout } from '../../models/auth/fanout-cache.js';
import { ApiError, notFound } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import { emitEvent } from '../../models/platform/emit-event.js';
import type { AppDeps } from '../context.js';
import { defineRoute } from '../route.js';
import { httpsUrl } from '../schemas.js';
import { DEVICE_AUTH_DOC, authenticateDevice, bearerToken, verifySignedDeviceRequest } from '../principals/device.js';
import { importDeviceKey } from './device-protocol.js';
import { issueProof, verifyProof } from './pairing-proof.js';
import { fcmToken, p256Jwk, platform, publicDevice, userSocketHash } from './schemas.js';

const backendTags = ['Auth Relay: pairing & devices'];
const deviceTags = ['Auth Relay: device protocol'];
export const PAIRING_CALLBACK_PATH = '/relay-callbacks/pairing';

const newSessionToken = (): string => `dst_${randomBytes(32).toString('base64url')}`;

// ---------------------------------------------------------------------------------------------

export const preparePairing = defineRoute({
  method: 'post',
  path: '/relay/prepare-pairing',
  summary: 'Prepare a pairing: get a single-use pairing_proof to forward to the device',
  description:
    'Stores a pairing intent and returns a `pairing_proof` valid PAIRING_PROOF_TTL_SECONDS (default 300 s). The proof is a compact HS256 JWS (relay-side key derived by HKDF from the master key) carrying the tenant id, the intent id and the expiry; it holds no user data. It is single use: the first device to redeem it (POST /device/register-token) consumes it by a guarded update, and any later use answers 410. At least one of `user_email` / `user_phone` is required. One pairing exists per (tenant, user_socket_hash); pairing again adds a device to it.',
  tags: backendTags,
  security: 'hmac',
  body: z
    .object({
      user_socket_hash: userSocketHash,
      backend_user_id: z.string().min(1).max(128),
      display_name: z.string().trim().min(1).max(120),
      user_email: z.email().max(254).nullish(),
      user_phone: z
        .string()
        .regex(/^\+?[0-9 ().-]{5,32}$/, 'must be a phone number')
        .nullish(),
      first_name: z.string().trim().max(80).nullish(),
      last_name: z.string().trim().max(80).nullish(),
      display_logo_url: httpsUrl.nullish(),
    })
    .strict()
    .refine((b) => Boolean(b.user_email || b.user_phone), {
      message: 'give at least one of user_email / user_phone',
      path: ['user_email'],
    })
    .meta({
      anyOf: [
        { required: ['user_email'], properties: { user_email: { type: 'string' } } },
        { required: ['user_phone'], properties: { user_phone: { type: 'string' } } },
      ],
    }),
  response: z.object({ pairing_proof: z.string(), expires_in: z.number().int(), expires_at: z.string() }),
  successStatus: 201,
  handler: async (ctx, { body, deps }) => {
    const tenantId = ctx.state.tenant!.tenant._id; // set by the HMAC gate
    const ttl = deps.config.pairingProofTtlSeconds;
    await ensureAuthIndexes();
    const intentId = newId('pin');
    const { token, expiresAt } = issueProof(deps.config.secretsMasterKey, tenantId, intentId, ttl);
    await PairingIntentModel.create({
      _id: intentId,
      tenant_id: tenantId,
      user_socket_hash: body.user_socket_hash,
      backend_user_id: body.backend_user_id,
      display_name: body.display_name,
      user_email: body.user_email ?? null,
      user_phone: body.user_phone ?? null,
      first_name: body.first_name ?? null,
      last_name: body.last_name ?? null,
      display_logo_url: body.display_logo_url ?? null,
      expires_at: expiresAt,
    });
    return {
      message: 'Pairing prepared. Forward pairing_proof to the device.',
      data: { pairing_proof: token, expires_in: ttl, expires_at: expiresAt.toISOString() },
    };
  },
});

// ---------------------------------------------------------------------------------------------

const pairingView = z.object({
  pairing_id: z.string(),
  tenant_id: z.string(),
  relay_user_linked_id: z.string(),
  display_name: z.string(),
  display_logo_url: z.string().nullable(),
  tenant_display_name: z.string(),
  user_socket_hash: z.string(),
});

export const registerToken = defineRoute({
  method: 'post',
  path: '/device/register-token',
  summary: 'Device: redeem a pairing_proof for a device_session_token',
  description: `Authorization: Bearer <pairing_proof>. The request is signed (X-Device-* headers, see below) with the private key matching \`public_key\`, which proves the device holds it. Refusals: 401 INVALID_TOKEN for a forged or malformed proof, or one presented with another tenant's \`tenant_id\`; 410 EXPIRED for an expired proof; 410 GONE for a proof already used; 403 TENANT_SUSPENDED. On success the pairing (one per tenant and user_socket_hash) is created or joined, the relay_user link is made, the user's other devices get a \`new_device\` security alert, and the tenant gets a \`pairing.device_added\` callback at {callback_url_base}${PAIRING_CALLBACK_PATH}. The device_session_token (opaque, 256 bits; the relay stores only its SHA-256) lasts DEVICE_SESSION_TTL_SECONDS (default 30 days) and is rotated by /device/refresh-token. ${DEVICE_AUTH_DOC}`,
  tags: deviceTags,
  security: 'device',
  body: z
    .object({
      public_key: p256Jwk,
      platform,
      device_name: z.string().trim().min(1).max(80),
      fcm_token: fcmToken.nullish().describe('Absent or null: the device gets no push and polls GET /device/requests.'),
      tenant_id: z.string().optional().describe('When given, must match the tenant the proof was issued for.'),
    })
    .strict(),
  response: z.object({ device_session_token: z.string(), expires_at: z.string(), device_id: z.string(), pairing: pairingView }),
  successStatus: 201,
  errors: [403, 409],
  handler: async (ctx, { body, deps }) => {
    // 1. The proof: authentic, for this tenant, not expired.
    const claims = verifyProof(deps.config.secretsMasterKey, bearerToken(ctx));
    if (!claims || (body.tenant_id !== undefined && body.tenant_id !== claims.tid))
      throw new ApiError('INVALID_TOKEN', 'Invalid pairing proof.');
    if (claims.exp * 1000 <= Date.now()) throw new ApiError('EXPIRED', 'This pairing proof has expired; ask for a new one.');
    const entry = await deps.tenants.get(claims.tid);
    if (!entry) throw new ApiError('INVALID_TOKEN', 'Invalid pairing proof.');
    if (entry.tenant.status !== 'active') throw new ApiError('TENANT_SUSPENDED', 'Inactive tenant: this tenant is suspended.');

    // 2. Proof of possession of the key being registered (and replay protection of this request).
    const key = importDeviceKey(body.public_key);
    if (!key) throw new ApiError('VALIDATION_FAILED', 'The request body failed validation.', ['public_key: must be a P-256 public key']);
    await verifySignedDeviceRequest(deps, ctx, key, claims.pin);

    // 3. Single use: pending → consumed, once (claimed in Redis first: see claimOnce).
    const deviceId = newId('dev');
    const now = new Date();
    const claimTtl = claims.exp * 1000 - now.getTime() + 60_000;
    if (!(await claimOnce(deps.redis, deps.config.queuePrefix, `pairing-intent:${claims.tid}:${claims.pin}`, claimTtl))) {
      throw new ApiError('GONE', 'This pairing proof was already used; ask for a new one.');
    }
    const intent = await PairingIntentModel.findOneAndUpdate(
      { _id: claims.pin, tenant_id: claims.tid, status: 'pending', expires_at: { $gt: now } },
      { $set: { status: 'consumed', consumed_at: now, consumed_by_device_id: deviceId } },
      { new: true },
    ).lean<PairingIntentDoc>();
    if (!intent) {
      const seen = await PairingIntentModel.findOne({ _id: claims.pin, tenant_id: claims.tid }).lean<PairingIntentDoc>();
      if (!seen) throw new ApiError('INVALID_TOKEN', 'Invalid pairing proof.');
      if (seen.status === 'consumed') throw new ApiError('GONE', 'This pairing proof was already used; ask for a new one.');
      throw new ApiError('EXPIRED', 'This pairing proof has expired; ask for a new one.');
    }

    // 4. The link, the pairing, the device.
    await ensureAuthIndexes();
    const tenantId = intent.tenant_id;
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
    const token = newSessionToken();
    const expiresAt = new Date(now.getTime() + deps.config.deviceSessionTtlSeconds * 1000);
    await DeviceModel.create({
      _id: deviceId,
      tenant_id: tenantId,
      pairing_id: pairing._id,
      user_socket_hash: pairing.user_socket_hash,
      platform: body.platform,
      device_name: body.device_name,
      public_key_jwk: body.public_key,
      fcm_token: body.fcm_token ?? null,
      fcm_token_updated_at: body.fcm_token ? now : null,
      session_token_hash: hashSessionToken(token),
      session_expires_at: expiresAt,
      last_seen_at: now,
    });

    await invalidateFanout(deps.redis, deps.config.queuePrefix, tenantId, pairing.user_socket_hash);

    // 5. Tell the user's other devices, and the tenant.
    if (others.length > 0) {
      await createApprovalRequest(deps, {
        tenantId,
        kind: 'security-alert',
        pairing,
        devices: others,
        content: {
          alert_type: 'new_device',
          title: 'New device paired',
          body: `${body.device_name} (${body.platform}) was paired with your account. If this was not you, contact ${entry.tenant.branding_display_name ?? entry.tenant.tenant_name}.`,
          new_device_id: deviceId,
        },
        ttlSeconds: 7 * 86400,
      });
    }
    await emitEvent(
      deps,
      { tenantId, callbackUrlBase: entry.tenant.callback_url_base, path: PAIRING_CALLBACK_PATH },
      'pairing.device_added',
      {
        user_socket_hash: pairing.user_socket_hash,
        backend_user_id: pairing.backend_user_id,
        relay_user_linked_id: pairing.relay_user_linked_id,
        pairing_id: pairing._id,
        device_id: deviceId,
        platform: body.platform,
        device_name: body.device_name,
        device_count: others.length + 1,
      },
    );

    return {
      message: 'Device paired.',
      data: {
        device_session_token: token,
        expires_at: expiresAt.toISOString(),
        device_id: deviceId,
        pairing: {
          pairing_id: pairing._id,
          tenant_id: tenantId,
          relay_user_linked_id: pairing.relay_user_linked_id,
          display_name: pairing.display_name,
          display_logo_url: pairing.display_logo_url ?? entry.tenant.branding_logo_url ?? null,
          tenant_display_name: entry.tenant.branding_display_name ?? entry.tenant.tenant_name,
          user_socket_hash: pairing.user_socket_hash,
        },
      },
    };
  },
});

// ---------------------------------------------------------------------------------------------

export const refreshToken = defineRoute({
  method: 'post',
  path: '/device/refresh-token',
  summary: 'Device: rotate the device_session_token',
  description: `Returns a new device_session_token with a fresh lifetime; the presented one stops working at once (guarded update on its hash, so two concurrent refreshes cannot both succeed). ${DEVICE_AUTH_DOC}`,
  tags: deviceTags,
  security: 'device',
  body: z.object({}).strict(),
  response: z.object({ device_session_token: z.string(), expires_at: z.string(), device_id: z.string() }),
  handler: async (ctx, { deps }) => {
    const device = await authenticateDevice(ctx, deps);
    const token = newSessionToken();
    const now = new Date();
    const expiresAt = new Date(now.getTime() + deps.config.deviceSessionTtlSeconds * 1000);
    const ok = await DeviceModel.findOneAndUpdate(
      { _id: device._id, tenant_id: device.tenant_id, status: 'active', session_token_hash: device.session_token_hash },
      { $set: { session_token_hash: hashSessionToken(token), session_expires_at: expiresAt, last_seen_at: now } },
      { new: true },
    ).lean();
    if (!ok) throw new ApiError('INVALID_TOKEN', 'The device session token is invalid, expired or revoked; pair the device again.');
    return {
      message: 'Device session token rotated.',
      data: { device_session_token: token, expires_at: expiresAt.toISOString(), device_id: device._id },
    };
  },
});

export const updatePushToken = defineRoute({
  method: 'post',
  path: '/device/update-push-token',
  summary: 'Device: replace (or clear) its FCM registration token',
  description: `FCM rotates registration tokens; the app reports the new one here. The request is signed by the device key like every device request, so nobody holding only the session token can redirect pushes. \`null\` turns push off (the device polls). ${DEVICE_AUTH_DOC}`,
  tags: deviceTags,
  security: 'device',
  body: z.object({ fcm_token: fcmToken.nullable() }).strict(),
  response: z.object({ device_id: z.string(), push_enabled: z.boolean() }),
  handler: async (ctx, { body, deps }) => {
    const device = await authenticateDevice(ctx, deps);
    await DeviceModel.updateOne(
      { _id: device._id, tenant_id: device.tenant_id, status: 'active' },
      {
        $set: {
          fcm_token: body.fcm_token,
          fcm_token_updated_at: new Date(),
          fcm_token_pruned_reason: null,
          fcm_token_pruned_at: null,
          last_seen_at: new Date(),
        },
      },
    );
    await invalidateFanout(deps.redis, deps.config.queuePrefix, device.tenant_id, device.user_socket_hash);
    return {
      message: body.fcm_token ? 'Push token updated.' : 'Push token cleared; poll for requests.',
      data: { device_id: device._id, push_enabled: Boolean(body.fcm_token) },
    };
  },
});

async function revoke(deps: AppDeps, device: DeviceDoc, by: 'device' | 'backend'): Promise<DeviceDoc> {
  const now = new Date();
  const updated = await DeviceModel.findOneAndUpdate(
    { _id: device._id, tenant_id: device.tenant_id, status: 'active' },
    { $set: { status: 'revoked', revoked_at: now, revoked_by: by, fcm_token: null } },
    { new: true },
  ).lean<DeviceDoc>();
  if (!updated) return device; // already revoked: idempotent
  await invalidateFanout(deps.redis, deps.config.queuePrefix, device.tenant_id, device.user_socket_hash);
  const entry = await deps.tenants.get(device.tenant_id);
  await emitEvent(
    deps,
    { tenantId: device.tenant_id, callbackUrlBase: entry?.tenant.callback_url_base, path: PAIRING_CALLBACK_PATH },
    'pairing.device_removed',
    {
      user_socket_hash: device.user_socket_hash,
      pairing_id: device.pairing_id,
      device_id: device._id,
      removed_by: by,
    },
  );
  return updated;
}

export const unpair = defineRoute({
  method: 'post',
  path: '/device/unpair',
  summary: 'Device: unpair itself',
  description: `Revokes this device: its session token and key stop working at once, it gets no more pushes, and the tenant gets a \`pairing.device_removed\` callback. The user's other devices stay paired. ${DEVICE_AUTH_DOC}`,
  tags: deviceTags,
  security: 'device',
  body: z.object({}).strict(),
  response: z.object({ device_id: z.string(), status: z.literal('revoked') }),
  handler: async (ctx, { deps }) => {
    const device = await revoke(deps, await authenticateDevice(ctx, deps), 'device');
    return { message: 'Device unpaired.', data: { device_id: device._id, status: 'revoked' as const } };
  },
});

// ---------------------------------------------------------------------------------------------

export const fetchDevices = defineRoute({
  method: 'get',
  path: '/relay/fetch/devices',
  summary: "List a user's paired devices",
  description:
    "Every device of the pairing of `user_socket_hash`, active and revoked, newest last. Never shows tokens or keys. A user_socket_hash this tenant has not paired (including another tenant's) answers 404.",
  tags: backendTags,
  security: 'hmac',
  query: z.object({ user_socket_hash: userSocketHash }),
  response: z.object({
    user_socket_hash: z.string(),
    pairing_id: z.string(),
    relay_user_linked_id: z.string(),
    devices: z.array(publicDevice),
  }),
  errors: [404],
  handler: async (ctx, { query }) => {
    const tenantId = ctx.state.tenant!.tenant._id;
    const pairing = await findPairing(tenantId, query.user_socket_hash);
    if (!pairing) throw notFound('Pairing');
    const devices = await DeviceModel.find({ tenant_id: tenantId, pairing_id: pairing._id }).sort({ _id: 1 }).lean<DeviceDoc[]>();
    return {
      message: `${devices.filter((d) => d.status === 'active').length} active device(s).`,
      data: {
        user_socket_hash: pairing.user_socket_hash,
        pairing_id: pairing._id,
        relay_user_linked_id: pairing.relay_user_linked_id,
        devices: devices.map(toPublicDevice),
      },
    };
  },
});

export const revokeDevice = defineRoute({
  method: 'post',
  path: '/relay/revoke/device',
  summary: "Revoke one of a user's devices",
  description:
    "The device stops working at once (session, key, pushes). Idempotent: revoking a revoked device answers 200. A device that is not one of this user's devices in this tenant answers 404.",
  tags: backendTags,
  security: 'hmac',
  body: z
    .object({ user_socket_hash: userSocketHash, device_id: z.string().regex(/^dev_[0-9a-z]{26}$/, 'must be a device id (dev_…)') })
    .strict(),
  response: publicDevice,
  errors: [404],
  handler: async (ctx, { body, deps }) => {
    const tenantId = ctx.state.tenant!.tenant._id;
    const device = await DeviceModel.findOne({
      _id: body.device_id,
      tenant_id: tenantId,
      user_socket_hash: body.user_socket_hash,
    }).lean<DeviceDoc>();
    if (!device) throw notFound('Device');
    const revoked = await revoke(deps, device, 'backend');
    return { message: 'Device revoked.', data: toPublicDevice(revoked) };
  },
});

export const pairingRoutes = [preparePairing, fetchDevices, revokeDevice, registerToken, refreshToken, updatePushToken, unpair];
