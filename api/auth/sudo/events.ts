/** A sudo event after its dispatch: read it (polling instead of, or beside, the ApprovalEvent), cancel it, check a typed response. */
import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { approvalStateOf, loadApprovalRequest, visibleStatus } from '../../../models/auth/approval-flow.js';
import { findRequestByInstruction } from '../../../models/auth/approval-request.js';
import { endState, requestIdOfInstruction, type ApprovalState } from '../../../models/auth/approval-state.js';
import { approvalEventData } from '../../../models/auth/sudo-flow.js';
import { redisKey } from '../../../platform/keys.js';
import { hitFixedWindow } from '../../../platform/rate-limit.js';
import type { AppDeps } from '../../context.js';
import { ApiError, notFound } from '../../errors.js';
import { defineRoute } from '../../route.js';
import { instructionId } from '../schemas.js';
import { SUDO_TAGS, approvalEventView, sudoEventId } from './schemas.js';
import { fieldRules } from '../../schemas.js';
import type { TenantId } from '../../../models/platform/tenant-id.js';

/** A request of this tenant by its id or instruction_id: live (Redis) or from its history (MongoDB). */
async function findEvent(
  deps: AppDeps,
  tenantId: TenantId,
  q: { event_id?: string; instruction_id?: string },
): Promise<ApprovalState | null> {
  if (q.event_id) return loadApprovalRequest(deps, tenantId, q.event_id);
  if (!q.instruction_id) return null;
  const liveId = await requestIdOfInstruction(deps.redis, deps.config.queuePrefix, tenantId, q.instruction_id);
  if (liveId) return loadApprovalRequest(deps, tenantId, liveId);
  const stored = await findRequestByInstruction(tenantId, q.instruction_id);
  return stored ? approvalStateOf(stored) : null;
}

export const fetchSudoEvent = defineRoute({
  method: 'get',
  path: '/relay/sudo/fetch/event',
  summary: 'Read a sudo event (the ApprovalEvent so far), by event_id or instruction_id',
  description:
    'The same shape as the ApprovalEvent callback, with `status` pending until the end. Also answers for a push challenge sent with approval_event (by its instruction_id). 404 for an event of another tenant.',
  tags: SUDO_TAGS,
  security: 'hmac',
  query: z
    .object({ event_id: z.string().min(4).max(40).optional(), instruction_id: instructionId.optional() })
    .refine((q) => Boolean(q.event_id) !== Boolean(q.instruction_id), 'give either event_id or instruction_id')
    .meta(fieldRules.exactlyOne('event_id', 'instruction_id')),
  response: approvalEventView,
  errors: [404],
  handler: async (_ctx, { query, deps, principal }) => {
    const s = await findEvent(deps, principal.tenant.id, query);
    if (!s || (s.kind !== 'sudo' && !(s.kind === 'auth-challenge' && s.approval_event))) throw notFound('Sudo event');
    return { message: `Sudo event ${visibleStatus(s)}.`, data: await approvalEventData(s) };
  },
});

export const cancelSudoEvent = defineRoute({
  method: 'post',
  path: '/relay/sudo/cancel',
  summary: 'Cancel a pending sudo event',
  description:
    'The event ends `cancelled` (devices stop showing it; later answers get 409) and the ApprovalEvent says so. 409 when it already ended; 404 for an event of another tenant.',
  tags: SUDO_TAGS,
  security: 'hmac',
  body: z.object({ event_id: sudoEventId }).strict(),
  response: z.object({ event_id: z.string(), status: z.literal('cancelled') }),
  errors: [404, 409],
  handler: async (_ctx, { body, deps, principal }) => {
    const tenantId = principal.tenant.tenant._id;
    const s = await loadApprovalRequest(deps, tenantId, body.event_id);
    if (!s || s.kind !== 'sudo') throw notFound('Sudo event');
    const v = await endState(deps.redis, deps.config.queuePrefix, tenantId, body.event_id, 'cancel', 'tenant');
    if (v.kind === 'final') throw new ApiError('CONFLICT', `This event already ended: ${v.status}.`);
    if (v.kind !== 'decided') throw notFound('Sudo event');
    await deps.producer.enqueue('approval.finalize', { tenantId, requestId: body.event_id });
    return { message: 'Sudo event cancelled.', data: { event_id: body.event_id, status: 'cancelled' as const } };
  },
});

const MAX_RESPONSE_ATTEMPTS = 5;

export const submitResponse = defineRoute({
  method: 'post',
  path: '/relay/sudo/submit-response',
  summary: 'Check the code a user typed into your page against what their device answered (totp, goldenNumber)',
  description: `For a request of custom_type totp or goldenNumber that the device approved: \`response\` (what the user typed into your page) is compared, in constant time, with the device's answer. \`matched\` tells you whether to let the action through. At most ${MAX_RESPONSE_ATTEMPTS} tries per instruction_id per 10 minutes (429). 409 while the request is not approved (pending, denied), 410 once it expired; 404 for an instruction of another tenant. This is what the SDKs' /_bloonio/submit-response forwards to.`,
  tags: SUDO_TAGS,
  security: 'hmac',
  body: z.object({ instruction_id: instructionId, response: z.string().trim().min(1).max(64) }).strict(),
  response: z.object({ instruction_id: z.string(), status: z.string(), matched: z.boolean() }),
  errors: [404, 409, 410, 429],
  handler: async (_ctx, { body, deps, principal }) => {
    const tenantId = principal.tenant.id;
    const s = await findEvent(deps, tenantId, { instruction_id: body.instruction_id });
    if (!s) throw notFound('Instruction');
    const customType = s.content.custom_type;
    if (customType !== 'totp' && customType !== 'goldenNumber')
      throw new ApiError('CONFLICT', 'This request takes no typed response (it is not totp or goldenNumber).');
    const status = visibleStatus(s);
    if (status === 'expired') throw new ApiError('EXPIRED', 'This request has expired.');
    if (status !== 'approved') throw new ApiError('CONFLICT', `This request is ${status}, not approved.`);
    const key = redisKey.submitResponseAttempts(deps.config.queuePrefix, tenantId, body.instruction_id);
    const hit = await hitFixedWindow(deps.redis, { key, limit: MAX_RESPONSE_ATTEMPTS, windowMs: 600_000 });
    if (!hit.ok) throw new ApiError('RATE_LIMITED', 'Too many tries for this instruction.', [], { 'Retry-After': String(hit.retryAfterS) });
    const answer = s.answers.find((a) => a.effect === 'approve')?.answer ?? '';
    const a = Buffer.from(answer);
    const b = Buffer.from(body.response);
    const matched = a.length > 0 && a.length === b.length && timingSafeEqual(a, b);
    return {
      message: matched ? 'The response matches.' : 'The response does not match.',
      data: { instruction_id: body.instruction_id, status, matched },
    };
  },
});
