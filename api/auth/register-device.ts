/** POST /device/register-token (docs/contract.md §2.1, step 2): a device redeems its pairing proof for a session. */
import { z } from 'zod';
import { redeemPairingProof } from '../../models/auth/pairing-flow.js';
import { defineRoute } from '../route.js';
import { fcmToken, p256Jwk, platform } from './schemas.js';

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
  description:
    "Authorization: Bearer <pairing_proof>, and the request signed (X-Device-*) with the private key matching `public_key`, which proves the device holds it. On success the pairing is created or joined, the user's other devices get a `new_device` security alert, the tenant a `pairing.device_added` callback, and the device a device_session_token that lasts DEVICE_SESSION_TTL_SECONDS (rotate it with /device/refresh-token).",
  docs: 'api.md#device-protocol',
  tags: ['Auth Relay: device protocol'],
  security: 'pairing-proof',
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
  errors: {
    401: "INVALID_TOKEN: a forged or malformed proof, or one presented with another tenant's tenant_id",
    403: 'TENANT_SUSPENDED',
    409: 'the pairing could not be completed as asked; the message says why',
    410: 'EXPIRED: an expired proof; GONE: a proof already used',
  },
  handler: async (_ctx, { body, deps, principal }) => {
    const tenant = principal.tenant.tenant;
    const r = await redeemPairingProof(deps, tenant, principal.proof, body);
    return {
      message: 'Device paired.',
      data: {
        device_session_token: r.sessionToken,
        expires_at: r.expiresAt.toISOString(),
        device_id: r.deviceId,
        pairing: {
          pairing_id: r.pairing._id,
          tenant_id: tenant._id,
          relay_user_linked_id: r.pairing.relay_user_linked_id,
          display_name: r.pairing.display_name,
          display_logo_url: r.pairing.display_logo_url ?? tenant.branding_logo_url ?? null,
          tenant_display_name: tenant.branding_display_name ?? tenant.tenant_name,
          user_socket_hash: r.pairing.user_socket_hash,
        },
      },
    };
  },
});
