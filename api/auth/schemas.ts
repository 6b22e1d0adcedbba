/** Field schemas shared by the Auth Relay routes (push challenges, sudo, devices). */
import { z } from 'zod';
import { DEVICE_PLATFORMS } from '../../models/auth/device.js';

export const userSocketHash = z
  .string()
  .min(8)
  .max(128)
  .regex(/^[A-Za-z0-9_.:=+/-]+$/, 'must be the opaque hash your backend keeps for this user (8–128 URL-safe characters)');

export const instructionId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'must be 1–128 characters of A-Z a-z 0-9 _ . : -');

export const p256Jwk = z
  .object({
    kty: z.literal('EC'),
    crv: z.literal('P-256'),
    x: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be a base64url P-256 coordinate'),
    y: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be a base64url P-256 coordinate'),
  })
  .describe('The device public key as a JWK (ECDSA P-256); the private key never leaves the device.');

export const fcmToken = z
  .string()
  .min(16)
  .max(4096)
  .regex(/^[A-Za-z0-9_:.-]+$/, 'must be an FCM registration token');

export const platform = z.enum(DEVICE_PLATFORMS);

export const publicDevice = z.object({
  device_id: z.string(),
  pairing_id: z.string(),
  platform,
  device_name: z.string(),
  status: z.enum(['active', 'revoked']),
  push_enabled: z.boolean(),
  fcm_token_pruned_reason: z.string().nullable(),
  last_seen_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
  created_at: z.string(),
});

/** The SDKs' DataType (docs/contract.md §2.2): how the authenticator renders a display field. */
export const DATA_TYPES = [
  'CURRENCY_USD',
  'CURRENCY_EUR',
  'CURRENCY_GBP',
  'IBAN',
  'DATE',
  'DATETIME',
  'PARTY_NAME',
  'ENTITY_REFERENCE',
  'TEXT',
  'NUMBER',
  'EMAIL',
  'PHONE',
  'URL',
  'IP_ADDRESS',
  'LOCATION',
] as const;
