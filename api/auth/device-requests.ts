/**
 * The device side of approval requests: poll the open ones, open one (a sudo request's current data),
 * answer one. Generic over the request kind: push challenges and alerts, and sudo requests — including
 * those of another organisation that delegated to the device's user (`tenant_id` names the asking
 * tenant). The poll reads the device's open set in Redis (models/auth/approval-state.ts), never a
 * MongoDB scan; the answer's rules and its atomic decision live with the model (approval-flow.ts).
 *
 * Here: the device is authenticated at mount (security `device`); the answer's own signature — by
 * the device key over request id, decision, answer and timestamp (and, for sudo, the hash of what it
 * showed: device-protocol.ts) — is checked before it counts.
 */
import { z } from 'zod';
import { answerApprovalRequest, loadApprovalRequest } from '../../models/auth/approval-flow.js';
import { openRequestsOfDevice, type ApprovalState } from '../../models/auth/approval-state.js';
import type { DeviceDoc } from '../../models/auth/device.js';
import { markDeviceSeen } from '../../models/auth/device-data.js';
import type { TenantId } from '../../models/platform/tenant-id.js';
import { fetchShownData, shownTo } from '../../models/auth/sudo-data.js';
import { redisKey } from '../../platform/keys.js';
import type { AppDeps } from '../context.js';
import { ApiError, notFound } from '../errors.js';
import { defineRoute } from '../route.js';
import {
  DEVICE_WINDOW_MS,
  answerSigningString,
  answerSigningStringV2,
  displayHash,
  importDeviceKey,
  verifyDeviceSignature,
} from './device-protocol.js';
import { dataItem } from './sudo/schemas.js';

const tags = ['Auth Relay: device protocol'];
const ALERT_LOOKBACK_MS = 7 * 86_400_000;
/** last_seen_at is written at most this often per device: a poll is not worth a MongoDB write. */
const SEEN_EVERY_MS = 5 * 60_000;
const REQUEST_ID = /^(chg|sud)_[0-9a-z]{26}$/;

/** last_seen_at, written when this device's Redis mark is absent (so at most once per SEEN_EVERY_MS, across processes). */
async function markSeen(deps: AppDeps, tenant: TenantId, device: DeviceDoc, now: number): Promise<void> {
  const mark = redisKey.deviceSeen(deps.config.queuePrefix, tenant, device._id);
  if ((await deps.redis.set(mark, '1', 'PX', SEEN_EVERY_MS, 'NX')) !== 'OK') return;
  await markDeviceSeen(tenant, device._id, new Date(now));
}

const openRequest = z.object({
  request_id: z.string(),
  tenant_id: z.string().describe('The tenant that asks (another organisation for a delegated sudo request).'),
  kind: z.string(),
  instruction_id: z.string(),
  status: z.string(),
  answerable: z.boolean(),
  content: z.record(z.string(), z.unknown()),
  created_at: z.string(),
  expires_at: z.string(),
});

/** What a device sees of a request: never expected_number (a separate field) nor `_` fields (where dynamic data comes from). */
function toOpen(r: ApprovalState, shown?: { data_items: unknown[]; display_hash: string }): z.infer<typeof openRequest> {
  const content = Object.fromEntries(Object.entries(r.content).filter(([k]) => !k.startsWith('_')));
  if (shown) Object.assign(content, { data_items: shown.data_items, display_hash: shown.display_hash });
  return {
    request_id: r._id,
    tenant_id: r.tenant_id,
    kind: r.kind,
    instruction_id: r.instruction_id,
    status: r.status,
    answerable: r.status === 'pending',
    content,
    created_at: r.created_at.toISOString(),
    expires_at: r.expires_at.toISOString(),
  };
}

export const pollRequests = defineRoute({
  method: 'get',
  path: '/device/requests',
  summary: 'Device: open approval requests and recent alerts addressed to this device',
  description: `What the device would have received by push: pending, unexpired requests (answer them with POST /device/answer) and security alerts of the last 7 days, newest first. A sudo request whose data is dynamic (\`content.data_access_type\` dynamic) is opened with POST /device/open-request first, which fetches its current data. Use the poll when a push does not arrive, or always when the device has no FCM token.`,
  tags,
  security: 'device',
  response: z.object({ requests: z.array(openRequest) }),
  handler: async (_ctx, { principal, deps }) => {
    const device = principal.device;
    const now = Date.now();
    const open = await openRequestsOfDevice(deps.redis, deps.config.queuePrefix, device.tenant_id, device._id, 100, now);
    const pending = open.filter((r) => r.status === 'pending' && r.expires_at.getTime() > now).slice(0, 50);
    const alerts = open.filter((r) => r.status === 'informational' && r.created_at.getTime() > now - ALERT_LOOKBACK_MS).slice(0, 20);
    // The principal's document may come from the session cache, so its last_seen_at is not a guide:
    // a Redis mark (set at most once per interval, across processes) decides when to write.
    void markSeen(deps, principal.tenant.id, device, now).catch(() => undefined);
    const mine = [...pending, ...alerts];
    return { message: `${mine.length} open request(s).`, data: { requests: mine.map((r) => toOpen(r)) } };
  },
});

const requestRef = {
  request_id: z.string().regex(REQUEST_ID, 'must be a request id (chg_… or sud_…)'),
  tenant_id: z
    .string()
    .regex(/^tnt_[0-9a-f]{24}$/)
    .optional()
    .describe("The asking tenant, when it is not the device's own (a delegated sudo request)."),
};

/** The request addressed to this device, of its own tenant or of the one named; 404 otherwise. */
async function addressed(
  deps: Parameters<typeof loadApprovalRequest>[0],
  device: { _id: string; tenant_id: string },
  ref: { request_id: string; tenant_id?: string | undefined },
) {
  const r = await loadApprovalRequest(deps, ref.tenant_id ?? device.tenant_id, ref.request_id);
  if (!r || !r.participants.some((p) => p.tenant_id === device.tenant_id && p.device_ids.includes(device._id))) throw notFound('Request');
  return r;
}

export const openRequestRoute = defineRoute({
  method: 'post',
  path: '/device/open-request',
  summary: 'Device: open a request, with its current data',
  description: `For a sudo request with dynamic data, the relay fetches the data now from the tenant (signed with HMAC #1, SSRF-guarded, 5 s, 64 KB), keeps what it showed this device, and answers it with \`content.display_hash\`: the hash the device signs in its answer (it checks it against its own displayHash of what it shows). For other requests it answers the request as the poll does. 502 when the tenant's data endpoint fails.`,
  tags,
  security: 'device',
  body: z.object(requestRef).strict(),
  response: openRequest,
  errors: [404, 502],
  handler: async (_ctx, { body, deps, principal }) => {
    const r = await addressed(deps, principal.device, body);
    if (r.kind !== 'sudo' || r.content.data_access_type !== 'dynamic' || r.status !== 'pending')
      return { message: 'Request.', data: toOpen(r) };
    const items = await fetchShownData(deps, r, principal.device);
    const parsed = z.array(dataItem).max(50).safeParse(items);
    if (!parsed.success)
      throw new ApiError('UPSTREAM_UNAVAILABLE', "The tenant's data endpoint answered something other than {data_items: [...]}.");
    const c = r.content;
    const hash = displayHash({ title: c.title, description: c.description, fields: c.fields, data_items: parsed.data });
    await shownTo(deps, r, principal.device._id).remember({ data_items: parsed.data, display_hash: hash });
    return { message: 'Request, with its current data.', data: toOpen(r, { data_items: parsed.data, display_hash: hash }) };
  },
});

export const answerRequest = defineRoute({
  method: 'post',
  path: '/device/answer',
  summary: 'Device: approve or deny a request, signed by the device key',
  description:
    '`signature` is the device key over the request, the decision and the answer (for a sudo request also the hash of what the device showed: what you see is what you sign); `timestamp` in Unix ms within ±60 s. A push challenge resolves once; a quorum counts each person once and answers `pending` until it is decided. goldenNumber approvals carry the picked number in `answer`, totp approvals the code.',
  docs: 'api.md#device-protocol',
  tags,
  security: 'device',
  body: z
    .object({
      ...requestRef,
      decision: z.enum(['approve', 'deny']),
      answer: z.string().max(64).optional(),
      display_hash: z
        .string()
        .regex(/^[0-9a-f]{64}$/, 'must be a sha256 hex digest')
        .optional(),
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
  errors: {
    401: 'INVALID_SIGNATURE: a bad answer signature',
    404: 'a request not addressed to this device',
    409: 'ALREADY_RESOLVED: a second answer to a push challenge (from this or another device); CONFLICT: a second answer of the same person to a quorum, or a display_hash that is not what the relay showed this device',
    410: 'EXPIRED: after the expiry',
  },
  handler: async (_ctx, { body, deps, principal }) => {
    const device = principal.device;
    // 1. The request, addressed to this device.
    const request = await addressed(deps, device, body);
    // 2. The answer's own signature (V2 over what was shown, for sudo) and freshness.
    const sudo = request.kind === 'sudo';
    if (sudo && !body.display_hash)
      throw new ApiError('VALIDATION_FAILED', 'The request body failed validation.', ['display_hash: required for a sudo request']);
    const signed = sudo
      ? answerSigningStringV2(body.request_id, body.decision, body.answer ?? null, body.display_hash ?? '', body.timestamp)
      : answerSigningString(body.request_id, body.decision, body.answer ?? null, body.timestamp);
    const key = importDeviceKey(device.public_key_jwk);
    if (!key || !verifyDeviceSignature(key, signed, body.signature)) throw new ApiError('INVALID_SIGNATURE', 'Invalid answer signature.');
    if (Math.abs(Date.now() - body.timestamp) > DEVICE_WINDOW_MS)
      throw new ApiError('TIMESTAMP_OUT_OF_WINDOW', 'Answer timestamp out of window (±60 s).');
    // 3. What you see is what you sign: the hash must be of what the relay showed this device.
    if (sudo) {
      const expected =
        request.content.data_access_type === 'dynamic'
          ? (await shownTo(deps, request, device._id).recall())?.display_hash
          : (request.content.display_hash as string | undefined);
      if (!expected)
        throw new ApiError('CONFLICT', 'Open this request first (POST /device/open-request): its data is fetched when you open it.');
      if (expected !== body.display_hash)
        throw new ApiError('CONFLICT', 'This answer was signed over other data than the relay showed this device; open the request again.');
    }
    // 4. The model's rules and the atomic decision.
    const r = await answerApprovalRequest(deps, device, request, {
      decision: body.decision,
      answer: body.answer ?? null,
      signature: body.signature,
      signedAtMs: body.timestamp,
      displayHash: body.display_hash ?? null,
    });
    const message =
      r.status === 'approved' ? 'Approved.' : r.status === 'denied' ? 'Denied.' : 'Answer recorded; waiting for other approvers.';
    return { message, data: { request_id: request._id, status: r.status, number_matched: r.numberMatched, reason: r.reason } };
  },
});
