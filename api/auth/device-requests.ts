/**
 * The device side of approval requests: poll the open ones, answer one. Generic over the request kind
 * (push challenges and alerts today; sudo and QR-login approvals use the same two routes). The poll
 * reads the device's open set in Redis (models/auth/approval-state.ts), never a MongoDB scan; the
 * answer's rules and its atomic decision live with the model (models/auth/approval-flow.ts).
 *
 * Here: the device is authenticated at mount (security `device`); the answer's own signature — by
 * the device key over request id, decision, answer and timestamp — is checked before anything else.
 */
import { z } from 'zod';
import { answerApprovalRequest, loadApprovalRequest } from '../../models/auth/approval-flow.js';
import { openRequestsOfDevice, type ApprovalState } from '../../models/auth/approval-state.js';
import { DeviceModel } from '../../models/auth/device.js';
import { ApiError, notFound } from '../errors.js';
import { DEVICE_AUTH_DOC } from '../principals/device.js';
import { defineRoute } from '../route.js';
import { DEVICE_WINDOW_MS, answerSigningString, importDeviceKey, verifyDeviceSignature } from './device-protocol.js';

const tags = ['Auth Relay: device protocol'];
const ALERT_LOOKBACK_MS = 7 * 86_400_000;
/** last_seen_at is written at most this often per device: a poll is not worth a MongoDB write. */
const SEEN_EVERY_MS = 5 * 60_000;

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

function toOpen(r: ApprovalState): z.infer<typeof openRequest> {
  return {
    request_id: r._id,
    kind: r.kind,
    instruction_id: r.instruction_id,
    status: r.status,
    answerable: r.status === 'pending',
    content: r.content, // never holds expected_number (a separate field)
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
  handler: async (_ctx, { principal, deps }) => {
    const device = principal.device;
    const now = Date.now();
    const open = await openRequestsOfDevice(deps.redis, deps.config.queuePrefix, device.tenant_id, device._id, 100, now);
    const pending = open.filter((r) => r.status === 'pending' && r.expires_at.getTime() > now).slice(0, 50);
    const alerts = open.filter((r) => r.status === 'informational' && r.created_at.getTime() > now - ALERT_LOOKBACK_MS).slice(0, 20);
    if (!device.last_seen_at || now - device.last_seen_at.getTime() > SEEN_EVERY_MS)
      void DeviceModel.updateOne({ _id: device._id, tenant_id: device.tenant_id }, { $set: { last_seen_at: new Date(now) } }).catch(
        () => undefined,
      );
    const mine = [...pending, ...alerts];
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
    status: z.enum(['approved', 'denied', 'pending']).describe('pending: your answer is recorded; the request needs more approvers.'),
    number_matched: z.boolean().nullable(),
    reason: z.string().nullable(),
  }),
  errors: [404, 409, 410],
  handler: async (_ctx, { body, deps, principal }) => {
    const device = principal.device;
    // 1. The answer's own signature and freshness (before revealing anything about the request).
    const key = importDeviceKey(device.public_key_jwk);
    if (
      !key ||
      !verifyDeviceSignature(key, answerSigningString(body.request_id, body.decision, body.answer ?? null, body.timestamp), body.signature)
    ) {
      throw new ApiError('INVALID_SIGNATURE', 'Invalid answer signature.');
    }
    if (Math.abs(Date.now() - body.timestamp) > DEVICE_WINDOW_MS)
      throw new ApiError('TIMESTAMP_OUT_OF_WINDOW', 'Answer timestamp out of window (±60 s).');

    // 2. The request, addressed to this device (404 otherwise), answered by the model's rules.
    const request = await loadApprovalRequest(deps, device.tenant_id, body.request_id);
    if (!request) throw notFound('Request');
    const r = await answerApprovalRequest(deps, device, request, {
      decision: body.decision,
      answer: body.answer ?? null,
      signature: body.signature,
      signedAtMs: body.timestamp,
    });
    const message =
      r.status === 'approved' ? 'Approved.' : r.status === 'denied' ? 'Denied.' : 'Answer recorded; waiting for other approvers.';
    return { message, data: { request_id: request._id, status: r.status, number_matched: r.numberMatched, reason: r.reason } };
  },
});
