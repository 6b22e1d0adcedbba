/** QR login, device side (docs/contract.md §2.3): a paired device approves or denies a QR code it scanned and checked. */
import { z } from 'zod';
import { answerQrSession } from '../../models/auth/qr-login.js';
import { findPairingById } from '../../models/auth/pairing.js';
import { ApiError, notFound } from '../errors.js';
import { defineRoute } from '../route.js';
import { DEVICE_WINDOW_MS, answerSigningString, importDeviceKey, verifyDeviceSignature } from './device-protocol.js';
import { readQrCode } from './qr-code.js';

export const qrLoginAnswer = defineRoute({
  method: 'post',
  path: '/device/qr-login/answer',
  summary: 'Device: approve or deny a scanned QR-login code',
  description:
    '`qr_code_str` as scanned; `signature` is the device key over the session id from the code, the decision and, with number matching (the code carries `num_choices`), the `number` the person picked: an approval without it is 422, a wrong one ends the session denied (200, `status: denied`, `reason: number_mismatch`).',
  docs: 'api.md#device-protocol',
  tags: ['Auth Relay: device protocol'],
  security: 'device',
  body: z
    .object({
      qr_code_str: z.string().min(20).max(2048),
      decision: z.enum(['approve', 'deny']),
      number: z
        .string()
        .regex(/^\d{2}$/, 'must be two digits')
        .optional()
        .describe("Number matching: the number the person picked among the code's num_choices."),
      timestamp: z.number().int().positive(),
      signature: z.string().min(16).max(200),
    })
    .strict(),
  response: z.object({ session_id: z.string(), status: z.enum(['approved', 'denied']), reason: z.enum(['number_mismatch']).nullable() }),
  errors: {
    401: 'INVALID_SIGNATURE: a code the relay did not sign, or a bad answer signature',
    404: 'the device is not paired with the tenant named in the code',
    409: 'ALREADY_RESOLVED: one answer per session',
    410: 'EXPIRED: the code expired',
  },
  handler: async (_ctx, { body, deps, principal }) => {
    const device = principal.device;
    const qr = readQrCode(deps.config.secretsMasterKey, body.qr_code_str);
    if (!qr) throw new ApiError('INVALID_SIGNATURE', 'This is not a QR-login code of this relay.');
    if (qr.tid !== device.tenant_id) throw notFound('QR-login session');
    const key = importDeviceKey(device.public_key_jwk);
    if (
      !key ||
      !verifyDeviceSignature(key, answerSigningString(qr.sid, body.decision, body.number ?? null, body.timestamp), body.signature)
    )
      throw new ApiError('INVALID_SIGNATURE', 'Invalid answer signature.');
    if (Math.abs(Date.now() - body.timestamp) > DEVICE_WINDOW_MS)
      throw new ApiError('TIMESTAMP_OUT_OF_WINDOW', 'Answer timestamp out of window (±60 s).');
    if (qr.exp * 1000 <= Date.now()) throw new ApiError('EXPIRED', 'This QR code has expired.');
    const pairing = await findPairingById(principal.tenant.id, device.pairing_id);
    if (!pairing) throw notFound('Pairing');
    const v = await answerQrSession(
      deps.redis,
      deps.config.queuePrefix,
      device.tenant_id,
      qr.sid,
      body.decision,
      {
        deviceId: device._id,
        relayUserLinkedId: pairing.relay_user_linked_id,
        backendUserId: pairing.backend_user_id,
        userSocketHash: pairing.user_socket_hash,
      },
      body.number ?? null,
    );
    if (v === 'FINAL') throw new ApiError('ALREADY_RESOLVED', 'This QR code was already answered.');
    if (v === 'NEEDS_NUMBER')
      throw new ApiError('VALIDATION_FAILED', 'The request body failed validation.', [
        'number: required: pick the number the browser shows (number matching)',
      ]);
    if (v === 'MISMATCH')
      return {
        message: 'Wrong number: the QR login was refused and ended.',
        data: { session_id: qr.sid, status: 'denied' as const, reason: 'number_mismatch' as const },
      };
    if (v !== 'OK') throw new ApiError('EXPIRED', 'This QR code has expired.');
    const status = body.decision === 'approve' ? ('approved' as const) : ('denied' as const);
    return {
      message: status === 'approved' ? 'QR login approved.' : 'QR login denied.',
      data: { session_id: qr.sid, status, reason: null },
    };
  },
});
