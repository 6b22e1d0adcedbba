/** POST /relay/prepare-pairing (docs/contract.md §2.1, step 1): the backend gets a single-use pairing proof for the device. */
import { z } from 'zod';
import { preparePairing as prepare } from '../../models/auth/pairing-flow.js';
import { defineRoute } from '../route.js';
import { emailAddress, httpsUrl } from '../schemas.js';
import { userSocketHash } from './schemas.js';

export const preparePairing = defineRoute({
  method: 'post',
  path: '/relay/prepare-pairing',
  summary: 'Prepare a pairing: get a single-use pairing_proof to forward to the device',
  description:
    'Stores a pairing intent and returns a `pairing_proof` valid PAIRING_PROOF_TTL_SECONDS (default 300 s). The proof is a compact HS256 JWS (relay-side key derived by HKDF from the master key) carrying the tenant id, the intent id and the expiry; it holds no user data. It is single use: the first device to redeem it (POST /device/register-token) consumes it by a guarded update, and any later use answers 410. At least one of `user_email` / `user_phone` is required. One pairing exists per (tenant, user_socket_hash); pairing again adds a device to it.',
  tags: ['Auth Relay: pairing & devices'],
  security: 'hmac',
  body: z
    .object({
      user_socket_hash: userSocketHash,
      backend_user_id: z.string().min(1).max(128),
      display_name: z.string().trim().min(1).max(120),
      user_email: emailAddress.nullish(),
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
  handler: async (_ctx, { body, deps, principal }) => {
    const p = await prepare(deps, principal.tenant.tenant._id, body);
    return {
      message: 'Pairing prepared. Forward pairing_proof to the device.',
      data: { pairing_proof: p.pairingProof, expires_in: p.ttlSeconds, expires_at: p.expiresAt.toISOString() },
    };
  },
});
