/**
 * Push challenges and security alerts (SPEC §2.2), backend side:
 *   POST /relay/send/auth-challenge, POST /relay/send/security-alert, GET /relay/fetch/delivery-status.
 * The API stores the request and enqueues one push job per device (workers/auth/push.ts sends through
 * FCM); it then waits a bounded time (PUSH_SYNC_WAIT_MS, default 1.5 s) for those jobs to settle so
 * it can give the documented synchronous answer, and answers 202 with the same shape otherwise.
 */
import { z } from 'zod';
import {
  DuplicateInstructionError,
  createApprovalRequest,
  resolutionEventData,
  settledOutcomes,
  waitForSettled,
} from '../../models/auth/approval-flow.js';
import {
  findRequestByInstruction,
  pushDeliveriesOf,
  type ApprovalRequestDoc,
  type PushDeliveryDoc,
  type RequestKind,
} from '../../models/auth/approval-request.js';
import { loadFanout } from '../../models/auth/fanout-cache.js';
import { ApiError, notFound } from '../../platform/errors.js';
import type { AppContext, AppDeps } from '../context.js';
import { defineRoute, type Success } from '../route.js';
import { httpUrl } from '../schemas.js';
import { instructionId, userSocketHash } from './schemas.js';

const tags = ['Auth Relay: push challenges & alerts'];
export const AUTH_CHALLENGE_CALLBACK_PATH = '/relay-callbacks/auth-challenge';

/** The SDKs' DataType (SPEC §2.2): how the authenticator renders a display field. */
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

export const displayBlock = z
  .object({
    title: z.string().trim().min(1).max(120),
    subtitle: z.string().trim().max(200).optional(),
    fields: z
      .array(
        z
          .object({
            key: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1–64 characters of A-Z a-z 0-9 _ . -'),
            title: z.string().trim().min(1).max(80),
            value: z.string().max(500),
            data_type: z.enum(DATA_TYPES),
          })
          .strict(),
      )
      .max(20)
      .default([]),
  })
  .strict();

const goldenNumber = z.number().int().min(0).max(999);

const challengeBody = z
  .object({
    user_socket_hash: userSocketHash,
    instruction_id: instructionId,
    custom_type: z.enum(['totp', 'goldenNumber', 'localAuth']),
    expected_action: z.string().trim().min(1).max(120),
    backend_url: httpUrl.optional(),
    description: z.string().trim().max(500).optional(),
    ttl_seconds: z.number().int().min(10).max(600).default(180),
    numbers: z.array(goldenNumber).min(2).max(9).meta({ uniqueItems: true }).optional(),
    expected_number: goldenNumber
      .optional()
      .describe(
        'goldenNumber: when given, the relay itself checks the number the user picked; a wrong pick resolves the challenge as denied (reason number_mismatch).',
      ),
    display: displayBlock.optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.custom_type === 'goldenNumber' && !b.numbers)
      ctx.addIssue({ code: 'custom', path: ['numbers'], message: 'required for goldenNumber' });
    if (b.custom_type !== 'goldenNumber' && (b.numbers || b.expected_number !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['numbers'], message: 'only for goldenNumber' });
    }
    if (b.numbers && new Set(b.numbers).size !== b.numbers.length)
      ctx.addIssue({ code: 'custom', path: ['numbers'], message: 'must be distinct' });
    if (b.expected_number !== undefined && b.numbers && !b.numbers.includes(b.expected_number)) {
      ctx.addIssue({ code: 'custom', path: ['expected_number'], message: 'must be one of numbers' });
    }
  })
  // The same rules for generated clients and fuzzers (all but "expected_number is one of numbers", which
  // JSON Schema cannot say).
  .meta({
    if: { properties: { custom_type: { const: 'goldenNumber' } }, required: ['custom_type'] },
    then: { required: ['numbers'] },
    else: { not: { anyOf: [{ required: ['numbers'] }, { required: ['expected_number'] }] } },
    'x-rules': ['numbers: required for goldenNumber, only for goldenNumber', 'expected_number: only for goldenNumber, one of numbers'],
  });

const deliverySummary = z.object({
  instruction_id: z.string(),
  request_id: z.string(),
  status: z.enum(['pending', 'approved', 'denied', 'expired', 'informational']),
  delivered_count: z.number().int(),
  failed_count: z.number().int(),
  /** Devices without a push token (or with push off): they get the request by polling. */
  polling_count: z.number().int(),
  /** Pushes not settled yet (only in a 202). */
  pending_count: z.number().int(),
  fcm_message_ids: z.array(z.string()),
  failed_tokens_sample: z.array(z.object({ device_id: z.string(), error_code: z.string().nullable(), pruned: z.boolean() })),
  sent_at: z.string(),
  expires_at: z.string(),
});
type DeliverySummary = z.infer<typeof deliverySummary>;

type DeliveryView = Pick<PushDeliveryDoc, 'device_id' | 'status' | 'fcm_message_id' | 'error_code'>;

function summarize(r: ApprovalRequestDoc, ds: DeliveryView[]): DeliverySummary {
  const sent = ds.filter((d) => d.status === 'sent');
  const failed = ds.filter((d) => d.status === 'failed' || d.status === 'invalid_token');
  return {
    instruction_id: r.instruction_id,
    request_id: r._id,
    status: r.status,
    delivered_count: sent.length,
    failed_count: failed.length,
    polling_count: ds.filter((d) => d.status === 'no_token' || d.status === 'skipped').length,
    pending_count: ds.filter((d) => d.status === 'queued').length,
    fcm_message_ids: sent.map((d) => d.fcm_message_id ?? '').filter(Boolean),
    failed_tokens_sample: failed
      .slice(0, 5)
      .map((d) => ({ device_id: d.device_id, error_code: d.error_code ?? null, pruned: d.status === 'invalid_token' })),
    sent_at: r.created_at.toISOString(),
    expires_at: r.expires_at.toISOString(),
  };
}

/** Push fatigue (OWASP ASVS / NIST 800-63B): at most N requests per user per window, across processes. */
async function checkFatigue(deps: AppDeps, tenantId: string, userHash: string): Promise<void> {
  const windowS = deps.config.pushFatigueWindowSeconds;
  const bucket = Math.floor(Date.now() / 1000 / windowS);
  const key = `${deps.config.queuePrefix}:{${tenantId}}:fatigue:${userHash}:${bucket}`;
  const [[, count]] = (await deps.redis
    .multi()
    .incr(key)
    .expire(key, windowS + 5)
    .exec()) as [[unknown, number]];
  if (count > deps.config.pushFatigueMax) {
    const retryAfter = String(Math.max(1, (bucket + 1) * windowS - Math.floor(Date.now() / 1000)));
    throw new ApiError('RATE_LIMITED', `Too many challenges for this user: at most ${deps.config.pushFatigueMax} per ${windowS} s.`, [], {
      'Retry-After': retryAfter,
    });
  }
}

/** Steps shared by challenges and alerts: find the user's devices, store, enqueue, wait (bounded), summarize. */
async function dispatch(
  ctx: AppContext,
  deps: AppDeps,
  a: {
    userHash: string;
    kind: RequestKind;
    instructionId?: string;
    content: Record<string, unknown>;
    expectedNumber?: string | null;
    ttlSeconds: number;
  },
): Promise<Success<DeliverySummary>> {
  const tenantId = ctx.state.tenant!.tenant._id; // set by the HMAC gate
  // 1. The user's pairing and active devices (cached; another tenant's user is simply not found).
  const fanout = await loadFanout(deps.redis, deps.config.queuePrefix, tenantId, a.userHash);
  if (!fanout) throw notFound('Pairing for this user_socket_hash');
  const { pairing, devices } = fanout;
  if (devices.length === 0) throw new ApiError('CONFLICT', 'This user has no active device; pair one first.');
  // 2. Fatigue cap (challenges only: alerts are passive).
  if (a.kind === 'auth-challenge') await checkFatigue(deps, tenantId, a.userHash);
  // 3. Store and enqueue.
  let created;
  try {
    created = await createApprovalRequest(deps, {
      tenantId,
      kind: a.kind,
      pairing,
      devices,
      instructionId: a.instructionId,
      content: a.content,
      expectedNumber: a.expectedNumber ?? null,
      ttlSeconds: a.ttlSeconds,
    });
  } catch (err) {
    if (err instanceof DuplicateInstructionError)
      throw new ApiError('CONFLICT', 'This instruction_id was already used; use a fresh one per challenge.');
    throw err;
  }
  // 4. Wait (bounded) for the pushes, then report from the outcomes the worker recorded in Redis.
  const settled = await waitForSettled(deps, created.request._id, devices.length, deps.config.pushSyncWaitMs);
  const outcomes = await settledOutcomes(deps.redis, deps.config.queuePrefix, created.request._id);
  const views: DeliveryView[] = devices.map((d) => {
    const o = outcomes.get(d._id);
    return {
      device_id: d._id,
      status: o?.status ?? 'queued',
      fcm_message_id: o?.fcm_message_id ?? null,
      error_code: o?.error_code ?? null,
    };
  });
  const summary = summarize(created.request, views);
  const noun = a.kind === 'auth-challenge' ? 'Challenge' : 'Security alert';
  if (!settled || summary.pending_count > 0) {
    return {
      status: 202,
      message: `${noun} stored; pushes still in progress (${summary.pending_count} pending). Poll GET /relay/fetch/delivery-status?instruction_id=${summary.instruction_id}.`,
      data: summary,
    };
  }
  return { status: 200, message: settledMessage(noun, summary), data: summary };
}

/** What happened, in words: pushed to N, queued for M devices that poll, failed for K. */
export function settledMessage(noun: string, s: Pick<DeliverySummary, 'delivered_count' | 'polling_count' | 'failed_count'>): string {
  const parts = [
    s.delivered_count > 0 ? `pushed to ${s.delivered_count} device(s)` : '',
    s.polling_count > 0 ? `queued for ${s.polling_count} polling device(s) (GET /device/requests)` : '',
    s.failed_count > 0 ? `push failed for ${s.failed_count} device(s)` : '',
  ].filter(Boolean);
  return `${noun} ${parts.length ? parts.join(', ') : 'stored'}.`;
}

const SYNC_DOC =
  'The relay stores the request, enqueues one FCM push per active device of the user (a worker sends it: FCM HTTP v1 through firebase-admin), then waits up to PUSH_SYNC_WAIT_MS (default 1.5 s) for those pushes to settle. If they all settle in time: 200 with the per-device outcome; otherwise 202 with the same shape and `pending_count` > 0 — follow up with GET /relay/fetch/delivery-status. Devices without an FCM token (or a relay without FCM credentials) get the request by polling GET /device/requests (`polling_count`). An FCM token that FCM reports unregistered or invalid is pruned from its device (`failed_tokens_sample[].pruned`). 404 for a user_socket_hash this tenant has not paired; 409 when the user has no active device or the instruction_id was already used.';

export const sendAuthChallenge = defineRoute({
  method: 'post',
  path: '/relay/send/auth-challenge',
  summary: "Push an approval challenge to the user's devices",
  description: `${SYNC_DOC} Push fatigue: at most PUSH_FATIGUE_MAX (default 5) challenges per user per PUSH_FATIGUE_WINDOW_SECONDS (default 60), then 429 with Retry-After. The device answers approve/deny, signed by its own key; the first answer wins, later ones get 409, answers after expiry 410. custom_type: \`localAuth\` (the device confirms with biometrics/PIN), \`goldenNumber\` (the user picks among \`numbers\` the one your page shows; give \`expected_number\` and the relay checks it, a wrong pick resolves as denied with reason number_mismatch), \`totp\` (the device returns a code in \`answer\` for your backend to check). The outcome reaches you as a signed callback (HMAC #1) \`auth_challenge.approved\` / \`auth_challenge.denied\` / \`auth_challenge.expired\` at {callback_url_base}${AUTH_CHALLENGE_CALLBACK_PATH}, and through fetch/delivery-status. The callback's data carries the device's own ECDSA signature over "BLOONIO-ANSWER-V1\\n{request_id}\\n{decision}\\n{answer}\\n{signed_at_ms}" for your records.`,
  tags,
  security: 'hmac',
  body: challengeBody,
  response: deliverySummary,
  otherSuccessStatuses: [202],
  errors: [404, 409],
  handler: async (ctx, { body, deps }) => {
    const content = {
      custom_type: body.custom_type,
      expected_action: body.expected_action,
      backend_url: body.backend_url ?? null,
      description: body.description ?? null,
      numbers: body.numbers ?? null,
      display: body.display ?? null,
      tenant_display_name: ctx.state.tenant!.tenant.branding_display_name ?? ctx.state.tenant!.tenant.tenant_name,
    };
    return dispatch(ctx, deps, {
      userHash: body.user_socket_hash,
      kind: 'auth-challenge',
      instructionId: body.instruction_id,
      content,
      expectedNumber: body.expected_number !== undefined ? String(body.expected_number) : null,
      ttlSeconds: body.ttl_seconds,
    });
  },
});

export const sendSecurityAlert = defineRoute({
  method: 'post',
  path: '/relay/send/security-alert',
  summary: "Push a security alert (no answer) to the user's devices",
  description: `A passive notification: the device shows it, with no buttons. ${SYNC_DOC} The relay itself raises a \`new_device\` alert on a user's other devices whenever a device is paired.`,
  tags,
  security: 'hmac',
  body: z
    .object({
      user_socket_hash: userSocketHash,
      title: z.string().trim().min(1).max(120),
      body: z.string().trim().min(1).max(500),
      alert_type: z
        .string()
        .regex(/^[a-z0-9_.-]{1,40}$/, 'must be 1–40 characters of a-z 0-9 _ . -')
        .default('custom'),
      instruction_id: instructionId.optional(),
      ttl_seconds: z
        .number()
        .int()
        .min(10)
        .max(7 * 86400)
        .default(86400),
    })
    .strict(),
  response: deliverySummary,
  otherSuccessStatuses: [202],
  errors: [404, 409],
  handler: async (ctx, { body, deps }) =>
    dispatch(ctx, deps, {
      userHash: body.user_socket_hash,
      kind: 'security-alert',
      instructionId: body.instruction_id,
      content: { alert_type: body.alert_type, title: body.title, body: body.body },
      ttlSeconds: body.ttl_seconds,
    }),
});

export const fetchDeliveryStatus = defineRoute({
  method: 'get',
  path: '/relay/fetch/delivery-status',
  summary: 'Delivery and outcome of a challenge or alert, by instruction_id',
  description:
    'Per-device push delivery (queued, sent, failed, invalid_token, no_token, skipped) and the request state (pending, approved, denied, expired; informational for alerts), with the outcome once resolved. 404 for an instruction_id this tenant never used.',
  tags,
  security: 'hmac',
  query: z.object({ instruction_id: instructionId }),
  response: deliverySummary.extend({
    kind: z.string(),
    outcome: z.record(z.string(), z.unknown()).nullable(),
    deliveries: z.array(
      z.object({
        device_id: z.string(),
        status: z.string(),
        fcm_message_id: z.string().nullable(),
        error_code: z.string().nullable(),
        attempts: z.number().int(),
        sent_at: z.string().nullable(),
      }),
    ),
  }),
  errors: [404],
  handler: async (ctx, { query, deps }) => {
    const tenantId = ctx.state.tenant!.tenant._id;
    const r = await findRequestByInstruction(tenantId, query.instruction_id);
    if (!r) throw notFound('Instruction');
    // A device with a push token gets its delivery record once its push settles: until then it is queued.
    const recorded = await pushDeliveriesOf(tenantId, r._id);
    const byDevice = new Map(recorded.map((d) => [d.device_id, d]));
    // The worker writes the Redis outcome a few ms before the MongoDB record (batched): use it meanwhile.
    const missing = r.device_ids.some((id) => !byDevice.has(id));
    const outcomes = missing ? await settledOutcomes(deps.redis, deps.config.queuePrefix, r._id) : new Map();
    const ds = r.device_ids.map((id) => {
      const o = outcomes.get(id);
      return (
        byDevice.get(id) ?? {
          device_id: id,
          status: o?.status ?? ('queued' as const),
          fcm_message_id: o?.fcm_message_id ?? null,
          error_code: o?.error_code ?? null,
          attempts: o?.attempts ?? 0,
          sent_at: null,
        }
      );
    });
    return {
      message: `Request ${r.status}.`,
      data: {
        ...summarize(r, ds),
        kind: r.kind,
        outcome: r.status === 'pending' || r.status === 'informational' ? null : resolutionEventData(r),
        deliveries: ds.map((d) => ({
          device_id: d.device_id,
          status: d.status,
          fcm_message_id: d.fcm_message_id ?? null,
          error_code: d.error_code ?? null,
          attempts: d.attempts,
          sent_at: d.sent_at?.toISOString() ?? null,
        })),
      },
    };
  },
});

export const challengeRoutes = [sendAuthChallenge, sendSecurityAlert, fetchDeliveryStatus];
