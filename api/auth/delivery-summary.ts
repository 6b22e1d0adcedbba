/**
 * What send/auth-challenge, send/security-alert and fetch/delivery-status report about a request's
 * pushes: one outcome per device, from the worker's settled outcomes (Redis) or push_delivery records.
 */
import { z } from 'zod';
import { REQUEST_STATUSES, type PushStatus } from '../../models/auth/approval-request.js';
import { visibleStatus } from '../../models/auth/approval-flow.js';
import type { ApprovalState } from '../../models/auth/approval-state.js';

export const deliverySummary = z.object({
  instruction_id: z.string(),
  request_id: z.string(),
  status: z.enum(REQUEST_STATUSES),
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

export type DeliverySummary = z.infer<typeof deliverySummary>;

export type DeliveryView = { device_id: string; status: PushStatus; fcm_message_id?: string | null; error_code?: string | null };

export function summarize(r: ApprovalState, ds: DeliveryView[]): DeliverySummary {
  const sent = ds.filter((d) => d.status === 'sent');
  const failed = ds.filter((d) => d.status === 'failed' || d.status === 'invalid_token');
  return {
    instruction_id: r.instruction_id,
    request_id: r._id,
    status: visibleStatus(r),
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
