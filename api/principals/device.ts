/**
 * Authentication of device requests (security kind `device`), in order:
 *   1. Bearer token: a device_session_token (or, for register-token only, a pairing_proof);
 *   2. X-Device-Timestamp within ±60 s (401 TIMESTAMP_OUT_OF_WINDOW);
 *   3. X-Device-Signature by the device's registered P-256 key over the canonical request string
 *      (device-protocol.ts), over the raw bytes received (401 INVALID_SIGNATURE);
 *   4. X-Device-Nonce not seen before for this device (401 REPLAY_DETECTED) — checked after the
 *      signature, so nobody without the key can burn a device's nonces.
 * A stolen session token alone is therefore useless: every request also needs the device key.
 */
import type { KeyObject } from 'node:crypto';
import type { Middleware } from 'koa';
import { redisKey } from '../../platform/keys.js';
import { deviceSessionTokenKind } from '../../platform/tokens.js';
import { ApiError } from '../errors.js';
import { hashSessionToken } from '../../models/auth/device.js';
import { deviceBySessionHash } from '../../models/auth/device-session-cache.js';
import type { AppContext, AppDeps, AppState } from '../context.js';
import {
  DEVICE_HEADERS,
  DEVICE_WINDOW_MS,
  NONCE_PATTERN,
  importDeviceKey,
  requestSigningString,
  verifyDeviceSignature,
} from '../auth/device-protocol.js';
import { requireActiveTenant } from './tenant.js';

export function bearerToken(ctx: AppContext): string {
  const m = /^Bearer\s+(\S{16,2048})$/i.exec(ctx.get('authorization'));
  if (!m?.[1]) throw new ApiError('INVALID_TOKEN', 'Authorization: Bearer <token> is required.');
  return m[1];
}

/** Steps 2–4 for a request signed by `key`; `signer` scopes the nonce store (a device id, or a pairing intent id). */
export async function verifySignedDeviceRequest(deps: AppDeps, ctx: AppContext, key: KeyObject, signer: string): Promise<void> {
  const ts = ctx.get(DEVICE_HEADERS.timestamp);
  const nonce = ctx.get(DEVICE_HEADERS.nonce);
  const signature = ctx.get(DEVICE_HEADERS.signature);
  if (!ts || !nonce || !signature)
    throw new ApiError('MISSING_SIGNATURE_HEADERS', 'X-Device-Timestamp, X-Device-Nonce and X-Device-Signature are required.');
  const tsNum = /^\d{1,16}$/.test(ts) ? Number(ts) : NaN;
  if (!Number.isFinite(tsNum) || Math.abs(Date.now() - tsNum) > DEVICE_WINDOW_MS) {
    throw new ApiError(
      'TIMESTAMP_OUT_OF_WINDOW',
      'Timestamp out of window: X-Device-Timestamp must be Unix milliseconds within ±60 s of the relay clock.',
    );
  }
  if (!NONCE_PATTERN.test(nonce)) throw new ApiError('INVALID_SIGNATURE', 'X-Device-Nonce must be 16–128 base64url characters.');
  const message = requestSigningString(ctx.method, ctx.originalUrl, ts, nonce, ctx.state.rawBody ?? Buffer.alloc(0));
  if (!verifyDeviceSignature(key, message, signature)) throw new ApiError('INVALID_SIGNATURE', 'Invalid device signature.');
  const fresh = await deps.redis.set(
    redisKey.deviceNonce(deps.config.queuePrefix, signer, nonce),
    '1',
    'PX',
    2 * DEVICE_WINDOW_MS + 5000,
    'NX',
  );
  if (fresh !== 'OK') throw new ApiError('REPLAY_DETECTED', 'Replay detected: this device nonce was already used.');
}

const invalidSession = () =>
  new ApiError('INVALID_TOKEN', 'The device session token is invalid, expired or revoked; pair the device again.');

/** `security: 'device'`: steps 1–4, then the device's tenant must be active (403 otherwise). */
export function deviceAuth(deps: AppDeps): Middleware<AppState> {
  return async (ctx, next) => {
    const token = bearerToken(ctx);
    // A made-up token fails its MAC: refused before any lookup or cache write (platform/tokens.ts).
    const kind = deviceSessionTokenKind(deps.config.secretsMasterKey, token);
    if (kind === 'invalid') throw invalidSession();
    const device = await deviceBySessionHash(deps, hashSessionToken(token), { legacy: kind === 'legacy' });
    // One answer for unknown, revoked and expired sessions: a caller learns nothing about which.
    if (!device || device.status !== 'active' || device.session_expires_at.getTime() <= Date.now()) throw invalidSession();
    const key = importDeviceKey(device.public_key_jwk);
    if (!key) throw new Error(`device ${device._id} has an unreadable public key`);
    await verifySignedDeviceRequest(deps, ctx, key, device._id);
    const tenant = await requireActiveTenant(deps, device.tenant_id, invalidSession);
    ctx.state.principal = { kind: 'device', device, tenant };
    return next();
  };
}
