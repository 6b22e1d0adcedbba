/** GET /relay/fetch/delivery-status (docs/contract.md §2.2): a request's per-device push delivery and its outcome. */
import { z } from 'zod';
import { challengeOutcomeOf, approvalStateOf, loadApprovalRequest, visibleStatus } from '../../models/auth/approval-flow.js';
import { findRequestByInstruction, pushDeliveriesOf } from '../../models/auth/approval-request.js';
import { requestIdOfInstruction } from '../../models/auth/approval-state.js';
import { settledOutcomes } from '../../models/auth/push-delivery.js';
import { notFound } from '../errors.js';
import { defineRoute } from '../route.js';
import { deliverySummary, summarize } from './delivery-summary.js';
import { instructionId } from './schemas.js';

const tags = ['Auth Relay: push challenges & alerts'];

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
  handler: async (_ctx, { query, deps, principal }) => {
    const tenantId = principal.tenant.id;
    const prefix = deps.config.queuePrefix;
    // The live request (Redis) while it is recent, else its history (MongoDB).
    const liveId = await requestIdOfInstruction(deps.redis, prefix, tenantId, query.instruction_id);
    const live = liveId ? await loadApprovalRequest(deps, tenantId, liveId) : null;
    const stored = live ? null : await findRequestByInstruction(tenantId, query.instruction_id);
    const r = live ?? (stored ? approvalStateOf(stored) : null);
    if (!r) throw notFound('Instruction');
    // The worker records each device's outcome in Redis (kept ~15 min), then in MongoDB (batched):
    // MongoDB is read only for an older request.
    const outcomes = await settledOutcomes(deps.redis, prefix, tenantId, r._id);
    const missing = r.device_ids.some((id) => !outcomes.has(id));
    const recorded = missing ? await pushDeliveriesOf(tenantId, r._id) : [];
    const byDevice = new Map(recorded.map((d) => [d.device_id, d]));
    const ds = r.device_ids.map((id) => {
      const o = outcomes.get(id);
      if (o)
        return {
          device_id: id,
          status: o.status,
          fcm_message_id: o.fcm_message_id ?? null,
          error_code: o.error_code ?? null,
          attempts: o.attempts ?? 0,
          sent_at: o.sent_at ? new Date(o.sent_at) : null,
        };
      return (
        byDevice.get(id) ?? { device_id: id, status: 'queued' as const, fcm_message_id: null, error_code: null, attempts: 0, sent_at: null }
      );
    });
    const status = visibleStatus(r);
    return {
      message: `Request ${status}.`,
      data: {
        ...summarize(r, ds),
        kind: r.kind,
        outcome: status === 'pending' || status === 'informational' ? null : { ...challengeOutcomeOf(r), status },
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
