/**
 * Push challenges and security alerts (docs/contract.md §2.2), backend side: POST /relay/send/auth-challenge and
 * POST /relay/send/security-alert. The request path costs Redis only: the user's fan-out (cached),
 * the fatigue counter, the live request and one batch of jobs (models/auth/approval-flow.ts); the
 * workers push through FCM and write MongoDB. The API then waits a bounded time (PUSH_SYNC_WAIT_MS,
 * default 1.5 s) for the pushes to settle, to give the documented synchronous answer, and answers
 * 202 with the same shape otherwise.
 */
import { z } from 'zod';
import { DuplicateInstructionError, createApprovalRequest } from '../../models/auth/approval-flow.js';
import type { RequestKind } from '../../models/auth/approval-request.js';
import { loadFanout } from '../../models/auth/fanout-cache.js';
import { settledOutcomes, waitForSettled } from '../../models/auth/push-delivery.js';
import type { TenantDoc } from '../../models/platform/tenant.js';
import type { AppDeps } from '../context.js';
import { ApiError, notFound } from '../errors.js';
import { defineRoute, type Success } from '../route.js';
import { httpUrl } from '../schemas.js';
import { deliverySummary, summarize, type DeliverySummary, type DeliveryView } from './delivery-summary.js';
import { DATA_TYPES, instructionId, userSocketHash } from './schemas.js';

const tags = ['Auth Relay: push challenges & alerts'];

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
    custom_type: z
      .enum(['totp', 'goldenNumber', 'localAuth'])
      .describe(
        'localAuth: the device confirms with biometrics or PIN. goldenNumber: the user picks among `numbers` the one your page shows (give `expected_number` and the relay checks it; a wrong pick resolves as denied, reason number_mismatch). totp: the device returns a code in `answer` for your backend to check.',
      ),
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
    approval_event: z
      .boolean()
      .default(false)
      .describe(
        "Also send the ApprovalEvent to {callback_url_base}{sudo_callback_path} once the challenge is final (the SDKs' sudo_required sets it).",
      ),
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

/** Steps shared by challenges and alerts: find the user's devices, create the request, wait (bounded), summarize. */
async function sendToDevices(
  deps: AppDeps,
  tenant: TenantDoc,
  a: {
    userHash: string;
    kind: RequestKind;
    instructionId?: string;
    content: Record<string, unknown>;
    expectedNumber?: string | null;
    ttlSeconds: number;
    approvalEvent?: boolean;
  },
): Promise<Success<DeliverySummary>> {
  const tenantId = tenant._id;
  // 1. The user's pairing and active devices (cached; another tenant's user is simply not found).
  const fanout = await loadFanout(deps.redis, deps.config.queuePrefix, tenantId, a.userHash);
  if (!fanout) throw notFound('Pairing for this user_socket_hash');
  const { pairing, devices } = fanout;
  if (devices.length === 0) throw new ApiError('CONFLICT', 'This user has no active device; pair one first.');
  // 2. The live request and its jobs; the push fatigue cap is counted there (models/auth/prompt-fatigue.ts).
  let request;
  try {
    request = await createApprovalRequest(deps, { tenantId, pairing, devices, ...a });
  } catch (err) {
    if (err instanceof DuplicateInstructionError)
      throw new ApiError('CONFLICT', 'This instruction_id was already used; use a fresh one per challenge.');
    throw err;
  }
  // 3. Wait (bounded) for the pushes, then report from the outcomes the worker recorded in Redis.
  const settled = await waitForSettled(deps, tenantId, request._id, devices.length, deps.config.pushSyncWaitMs);
  const outcomes = await settledOutcomes(deps.redis, deps.config.queuePrefix, tenantId, request._id);
  const views: DeliveryView[] = devices.map((d) => {
    const o = outcomes.get(d._id);
    return {
      device_id: d._id,
      status: o?.status ?? 'queued',
      fcm_message_id: o?.fcm_message_id ?? null,
      error_code: o?.error_code ?? null,
    };
  });
  const summary = summarize(request, views);
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
  'Waits up to PUSH_SYNC_WAIT_MS for the pushes to settle: 200 with the per-device outcome when they did, otherwise 202 with `pending_count` > 0 (follow up with GET /relay/fetch/delivery-status). Devices without an FCM token get the request by polling GET /device/requests.';

export const sendAuthChallenge = defineRoute({
  method: 'post',
  path: '/relay/send/auth-challenge',
  summary: "Push an approval challenge to the user's devices",
  description: `${SYNC_DOC} The device answers approve or deny, signed by its own key; the outcome reaches you as a signed auth_challenge.approved / denied / expired callback and through fetch/delivery-status.`,
  docs: 'api.md#pushes-to-devices',
  tags,
  security: 'hmac',
  body: challengeBody,
  response: deliverySummary,
  otherSuccessStatuses: [202],
  errors: {
    404: 'a user_socket_hash this tenant has not paired',
    409: 'the user has no active device, or the instruction_id was already used',
    429: 'PUSH_FATIGUE_MAX prompts per person per PUSH_FATIGUE_WINDOW_SECONDS, challenges and sudo dispatches of every tenant together (Retry-After)',
  },
  handler: async (_ctx, { body, deps, principal }) => {
    const tenant = principal.tenant.tenant;
    const content = {
      custom_type: body.custom_type,
      expected_action: body.expected_action,
      backend_url: body.backend_url ?? null,
      description: body.description ?? null,
      numbers: body.numbers ?? null,
      display: body.display ?? null,
      tenant_display_name: tenant.branding_display_name ?? tenant.tenant_name,
    };
    return sendToDevices(deps, tenant, {
      userHash: body.user_socket_hash,
      kind: 'auth-challenge',
      instructionId: body.instruction_id,
      content,
      expectedNumber: body.expected_number !== undefined ? String(body.expected_number) : null,
      ttlSeconds: body.ttl_seconds,
      approvalEvent: body.approval_event,
    });
  },
});

export const sendSecurityAlert = defineRoute({
  method: 'post',
  path: '/relay/send/security-alert',
  summary: "Push a security alert (no answer) to the user's devices",
  description: `A passive notification: the device shows it, with no buttons. ${SYNC_DOC}`,
  docs: 'api.md#pushes-to-devices',
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
  handler: async (_ctx, { body, deps, principal }) =>
    sendToDevices(deps, principal.tenant.tenant, {
      userHash: body.user_socket_hash,
      kind: 'security-alert',
      instructionId: body.instruction_id,
      content: { alert_type: body.alert_type, title: body.title, body: body.body },
      ttlSeconds: body.ttl_seconds,
    }),
});
