/**
 * The device side of approval requests: poll the open ones, answer one. Generic over the request
 * kind (auth-challenge today; QR-login and sudo approvals reuse the same two routes later).
 *
 * Answer rules (after privacyIDEA push, Auth0 Guardian, Duo; NIST 800-63B, OWASP ASVS 6.6):
 *   - the answer is signed by the device key over request id, decision, answer and timestamp;
 *   - the request must be addressed to this device (its pairing, at creation time);
 *   - it resolves once: the first answer wins (Redis claim + guarded update), a second gets 409
 *     ALREADY_RESOLVED, an answer after expiry 410 EXPIRED;
 *   - goldenNumber: an approval must carry one of the offered numbers; when the tenant gave the
 *     expected one, a wrong pick resolves the request as denied (reason number_mismatch);
 *   - totp: an approval carries the code (6–8 digits) for the tenant to check.
 */
import { z } from 'zod';
import { resolveRequest } from '../../models/auth/approval-flow.js';
import { ApprovalRequestModel, type ApprovalRequestDoc } from '../../models/auth/approval-request.js';
import { DeviceModel } from '../../models/auth/device.js';
import { ApiError, notFound } from '../../platform/errors.js';
import { defineRoute } from '../route.js';
import { DEVICE_AUTH_DOC, authenticateDevice } from '../principals/device.js';
import { DEVICE_WINDOW_MS, answerSigningString, importDeviceKey, verifyDeviceSignature } from './device-protocol.js';

const tags = ['Auth Relay: device protocol'];
const ALERT_LOOKBACK_MS = 7 * 86_400_000;

const openRequest = z.object({
  request_id: z.string(),
  kind: z.string(),
  instruction_id: z.string(),
  status: z.string(),
  answerable: z.boolean(),
  content: z.record(z.string(), z.unknown()),
  created_at: z.string(),
  expires_at: z.string(),
});

function toOpen(r: ApprovalRequestDoc): z.infer<typeof openRequest> {
  return {
    request_id: r._id,
    kind: r.kind,
    instruction_id: r.instruction_id,
    status: r.status,
    answerable: r.status === 'pending',
    content: r.content as Record<string, unknown>, // never holds expected_number (a separate field)
    created_at: r.created_at.toISOString(),
    expires_at: r.expires_at.toISOString(),
  };
}

export const pollRequests = defineRoute({
  method: 'get',
  path: '/device/requests',
  summary: 'Device: open approval requests and recent alerts addressed to this device',
  description: `What the device would have received by push: pending, unexpired requests (answer them with POST /device/answer) and security alerts of the last 7 days, newest first. Use it when a push does not arrive, or always when the device has no FCM token. ${DEVICE_AUTH_DOC}`,
  tags,
  security: 'device',
  response: z.object({ requests: z.array(openRequest) }),
  handler: async (ctx, { deps }) => {
    const device = await authenticateDevice(ctx, deps);
    const now = new Date();
    const [pending, alerts] = await Promise.all([
      ApprovalRequestModel.find({ tenant_id: device.tenant_id, pairing_id: device.pairing_id, status: 'pending', expires_at: { $gt: now } })
        .sort({ _id: -1 })
        .limit(50)
        .lean<ApprovalRequestDoc[]>(),
      ApprovalRequestModel.find({
        tenant_id: device.tenant_id,
        pairing_id: device.pairing_id,
        status: 'informational',
        expires_at: { $gt: now },
        created_at: { $gt: new Date(now.getTime() - ALERT_LOOKBACK_MS) },
      })
        .sort({ _id: -1 })
        .limit(20)
        .lean<ApprovalRequestDoc[]>(),
    ]);
    // Only what was addressed to this device (a device paired later does not see older requests).
    const mine = [...pending, ...alerts].filter((r) => r.device_ids.includes(device._id));
    void DeviceModel.updateOne({ _id: device._id, tenant_id: device.tenant_id }, { $set: { last_seen_at: now } }).catch(() => undefined);
    return { message: `${mine.length} open request(s).`, data: { requests: mine.map(toOpen) } };
  },
});

export const answerRequest = defineRoute({
  method: 'post',
  path: '/device/answer',
  summary: 'Device: approve or deny a request, signed by the device key',
  description: `\`signature\` = base64url(ECDSA-P256-SHA256(device key, "BLOONIO-ANSWER-V1\\n{request_id}\\n{decision}\\n{answer or empty}\\n{timestamp}")), \`timestamp\` in Unix ms within ±60 s. The request resolves once: 409 ALREADY_RESOLVED for a second answer (from this or another device), 410 EXPIRED after the expiry, 404 for a request not addressed to this device, 401 INVALID_SIGNATURE for a bad answer signature. goldenNumber approvals carry the picked number in \`answer\` (422 when it is not one of the offered numbers); totp approvals carry the code. ${DEVICE_AUTH_DOC}`,
  tags,
  security: 'device',
  body: z
    .object({
      request_id: z.string().regex(/^chg_[0-9a-z]{26}$/, 'must be a request id (chg_…)'),
      decision: z.enum(['approve', 'deny']),
      answer: z.string().max(64).optional(),
      timestamp: z.number().int().positive(),
      signature: z.string().min(16).max(200),
    })
    .strict(),
  response: z.object({
    request_id: z.string(),
    status: z.enum(['approved', 'denied']),
    number_matched: z.boolean().nullable(),
    reason: z.string().nullable(),
  }),
  errors: [409],
  handler: async (ctx, { body, deps }) => {
    // 1. The device, and the request addressed to it.
    const device = await authenticateDevice(ctx, deps);
    const request = await ApprovalRequestModel.findOne({
      _id: body.request_id,
      tenant_id: device.tenant_id,
      pairing_id: device.pairing_id,
    }).lean<ApprovalRequestDoc>();
    if (!request || !request.device_ids.includes(device._id)) throw notFound('Request');
    if (request.kind === 'security-alert') throw new ApiError('CONFLICT', 'A security alert takes no answer.');

    // 2. The answer's own signature and freshness.
    const key = importDeviceKey(device.public_key_jwk);
    if (
      !key ||
      !verifyDeviceSignature(key, answerSigningString(body.request_id, body.decision, body.answer ?? null, body.timestamp), body.signature)
    ) {
      throw new ApiError('INVALID_SIGNATURE', 'Invalid answer signature.');
    }
    if (Math.abs(Date.now() - body.timestamp) > DEVICE_WINDOW_MS)
      throw new ApiError('TIMESTAMP_OUT_OF_WINDOW', 'Answer timestamp out of window (±60 s).');

    // 3. Still open?
    const stateError = (r: ApprovalRequestDoc | null) =>
      r?.status === 'expired' || (r?.status === 'pending' && r.expires_at.getTime() <= Date.now())
        ? new ApiError('EXPIRED', 'This request has expired.')
        : new ApiError('ALREADY_RESOLVED', `This request was already ${r?.status ?? 'resolved'}.`);
    if (request.status !== 'pending' || request.expires_at.getTime() <= Date.now()) throw stateError(request);

    // 4. Kind-specific checks of the answer.
    const c = request.content as { custom_type?: string; numbers?: number[] | null };
    let numberMatched: boolean | null = null;
    let status: 'approved' | 'denied' = body.decision === 'approve' ? 'approved' : 'denied';
    let reason: string | null = body.decision === 'deny' ? 'user_denied' : null;
    if (body.decision === 'approve' && c.custom_type === 'goldenNumber') {
      if (!body.answer || !(c.numbers ?? []).map(String).includes(body.answer)) {
        throw new ApiError('VALIDATION_FAILED', 'The request body failed validation.', ['answer: must be one of the offered numbers']);
      }
      if (request.expected_number != null) {
        numberMatched = body.answer === request.expected_number;
        if (!numberMatched) [status, reason] = ['denied', 'number_mismatch'];
      }
    }
    if (body.decision === 'approve' && c.custom_type === 'totp' && !/^\d{6,8}$/.test(body.answer ?? '')) {
      throw new ApiError('VALIDATION_FAILED', 'The request body failed validation.', ['answer: must be the 6–8 digit code']);
    }

    // 5. Resolve once.
    const resolved = await resolveRequest(deps, device.tenant_id, request._id, {
      status,
      deviceId: device._id,
      decision: body.decision,
      answer: body.answer ?? null,
      numberMatched,
      reason,
      signature: body.signature,
      signedAtMs: body.timestamp,
    });
    if (!resolved)
      throw stateError(await ApprovalRequestModel.findOne({ _id: request._id, tenant_id: device.tenant_id }).lean<ApprovalRequestDoc>());
    return {
      message: status === 'approved' ? 'Approved.' : 'Denied.',
      data: { request_id: request._id, status, number_matched: numberMatched, reason },
    };
  },
});

export const deviceRequestRoutes = [pollRequests, answerRequest];
