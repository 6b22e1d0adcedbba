/** POST /relay/send/test-callback: a tenant asks for a `platform.test` event to check its receiver. */
import { z } from 'zod';
import { emitEvent } from '../../models/platform/emit-event.js';
import { ApiError } from '../../platform/errors.js';
import { defineRoute } from '../route.js';

export const TEST_CALLBACK_PATH = '/relay-callbacks/test';

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
  handler: async (ctx, { body, deps }) => {
    const tenant = ctx.state.tenant!.tenant; // set by the HMAC gate, which runs before every hmac route
    if (!tenant.callback_url_base) throw new ApiError('CONFLICT', 'Set callback_url_base on the tenant before asking for a test callback.');
    const emitted = await emitEvent(
      deps,
      { tenantId: tenant._id, callbackUrlBase: tenant.callback_url_base, path: TEST_CALLBACK_PATH },
      'platform.test',
      {
        note: body.note ?? 'Test callback from Bloonio Relay.',
      },
    );
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
