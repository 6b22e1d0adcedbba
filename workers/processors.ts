/**
 * Job name → processor, as a total record over the catalogue: a job without a processor does not
 * compile. Each processor receives its payload already validated against the catalogue's schema.
 */
import type { Job } from 'bullmq';
import type { JobName, JobOutcome, JobPayload } from '../queues/catalogue.js';
import { QUEUE } from '../queues/names.js';
import type { Producer } from '../queues/producer.js';
import { recordEvent } from '../models/platform/delivery-records.js';
import { createDeliveryProcessor, type DeliveryDeps } from './platform/deliver-webhook.js';
import { sweepDeliveries } from './platform/sweep-deliveries.js';
import { createPushProcessors, type PushDeps } from './auth/push.js';
import { createBotTurnProcessor } from './chat/bot-turn.js';
import { createStoreMessageProcessor } from './chat/store-message.js';
import { createMailProcessor } from './console/mail.js';
import { createMailer } from '../platform/mailer.js';

export type Processor<N extends JobName> = (
  job: Job,
  token: string | undefined,
  payload: JobPayload<N>,
  signal: AbortSignal,
) => Promise<JobOutcome<N>>;
export type Processors = { [N in JobName]: Processor<N> };

export type WorkerDeps = DeliveryDeps & { producer: Producer } & Pick<PushDeps, 'fcmHttpAgent' | 'fcmSender'>;

/** Every processor, and `close` for what they hold open (the FCM sender, batched writes in flight). */
export function createProcessors(deps: WorkerDeps): { processors: Processors; close: () => Promise<void> } {
  const push = createPushProcessors(deps);
  const messages = createStoreMessageProcessor(deps);
  const mailer = createMailer(deps.config);
  if (!mailer.configured) deps.logger.info('SMTP_URL is not set: console mail (codes, invitations) is not sent');
  const processors: Processors = {
    'webhook.deliver': createDeliveryProcessor(deps),
    'event.record': (_job, _token, e) => recordEvent(e).then(() => 'recorded' as const),
    'maintenance.sweep-deliveries': () => sweepDeliveries(deps, deps.producer.queue(QUEUE.webhookDelivery)),
    'chat.bot-turn': createBotTurnProcessor(deps),
    'chat.message.store': messages.processor,
    'push.send': push.send,
    'push.expire-request': push.expire,
    'approval.persist': push.persist,
    'approval.finalize': push.finalize,
    'console.mail': createMailProcessor({ ...deps, mailer }),
  };
  return {
    processors,
    close: async () => {
      mailer.close();
      await Promise.all([push.close(), messages.flush()]);
    },
  };
}
