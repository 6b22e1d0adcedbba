/** POST /relay/send/test-callback: a tenant asks for a `platform.test` event to check its receiver. */
import { z } from 'zod';
import { CALLBACK_EVENTS } from '../../models/platform/callback-catalogue.js';
import { emitEvent } from '../../models/platform/emit-event.js';
import { ApiError } from '../errors.js';
import { defineRoute } from '../route.js';

export const TEST_CALLBACK_PATH = CALLBACK_EVENTS['platform.test'].path({ _id: '' });

export const sendTestCallback = defineRoute({
  method: 'post',
  path: '/relay/send/test-callback',
  summary: 'Send a signed platform.test callback to the tenant receiver',
  description: `Enqueues a \`platform.test\` event for \`{callback_url_base}${TEST_CALLBACK_PATH}\`, delivered signed (HMAC #1) with retries. Answers 202 once the event is stored; follow it with GET /fetch/deliveries (admin).`,
  tags: ['Platform'],
  security: 'hmac',
  body: z.object({ note: z.string().max(500).optional() }).strict(),
  response: z.object({ event_id: z.string(), delivery_id: z.string(), url: z.string(), created_at: z.string() }),
  successStatus: 202,
  errors: [409],
  handler: async (_ctx, { body, deps, principal }) => {
    const tenant = principal.tenant.tenant;
    if (!tenant.callback_url_base) throw new ApiError('CONFLICT', 'Set callback_url_base on the tenant before asking for a test callback.');
    const emitted = await emitEvent(deps, tenant, 'platform.test', { note: body.note ?? 'Test callback from Bloonio Relay.' });
    return {
      message: 'Test callback queued.',
      data: {
        event_id: emitted.eventId,
        delivery_id: emitted.deliveryId ?? '',
        url: emitted.url ?? '',
        created_at: emitted.createdAt.toISOString(),
      },
    };
  },
});
