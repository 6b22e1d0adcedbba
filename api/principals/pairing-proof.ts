/**
 * `security: 'pairing-proof'` (POST /device/register-token only), in order:
 *   1. Bearer pairing_proof minted by this relay (platform/tokens.ts), for the tenant named in the
 *      body's optional `tenant_id` (401 INVALID_TOKEN), not expired (410 EXPIRED);
 *   2. the tenant exists (401) and is active (403);
 *   3. the request is signed (X-Device-* headers) by the private key of the `public_key` in the body:
 *      proof of possession of the key being registered, with the request's nonce scoped to the proof.
 * Single use is not a property of the token: it is the pairing intent's state, moved pending →
 * consumed by the handler, once.
 */
import type { Middleware } from 'koa';
import { verifyToken } from '../../platform/tokens.js';
import { importDeviceKey } from '../auth/device-protocol.js';
import type { AppDeps, AppState } from '../context.js';
import { ApiError } from '../errors.js';
import { bearerToken, verifySignedDeviceRequest } from './device.js';
import { requireActiveTenant } from './tenant.js';

const invalidProof = () => new ApiError('INVALID_TOKEN', 'Invalid pairing proof.');

export function pairingProofAuth(deps: AppDeps): Middleware<AppState> {
  return async (ctx, next) => {
    // The body is parsed but not validated yet: read the two fields this check needs defensively.
    const body = (ctx.state.body ?? {}) as { tenant_id?: unknown; public_key?: unknown };
    const read = verifyToken(deps.config.secretsMasterKey, 'pairing', bearerToken(ctx));
    if (!read || (body.tenant_id !== undefined && body.tenant_id !== read.claims.tid)) throw invalidProof();
    if (read.expired) throw new ApiError('EXPIRED', 'This pairing proof has expired; ask for a new one.');
    const tenant = await requireActiveTenant(deps, read.claims.tid, invalidProof);
    const key = importDeviceKey(body.public_key);
    if (!key) throw new ApiError('VALIDATION_FAILED', 'The request body failed validation.', ['public_key: must be a P-256 public key']);
    await verifySignedDeviceRequest(deps, ctx, key, read.claims.pin);
    ctx.state.principal = { kind: 'pairing-proof', proof: read.claims, tenant };
    return next();
  };
}
