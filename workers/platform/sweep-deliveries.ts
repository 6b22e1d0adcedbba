/**
 * The maintenance sweep: re-enqueue pending deliveries whose job went missing (the API stored the
 * delivery but Redis refused the job, or Redis lost data). Runs on a schedule; safe to run on
 * several workers at once because job ids are fixed.
 */
import type { Queue } from 'bullmq';
import { DeliveryModel } from '../../models/platform/delivery.js';
import type { Logger } from '../../platform/logger.js';
import { deliveryJobId, type JobName } from '../../queues/catalogue.js';
import type { Producer } from '../../queues/producer.js';

const BATCH = 500;

export async function sweepDeliveries(
  deps: { producer: Producer; logger: Logger; config: { deliverySweepGraceMs: number } },
  queue: Queue,
): Promise<number> {
  const overdue = await DeliveryModel.find(
    { status: 'pending', next_attempt_at: { $lte: new Date(Date.now() - deps.config.deliverySweepGraceMs) } },
    { _id: 1, tenant_id: 1, replay_count: 1 },
  )
    .limit(BATCH)
    .lean<{ _id: string; tenant_id: string; replay_count: number }[]>();
  let requeued = 0;
  for (const d of overdue) {
    const jobId = deliveryJobId(d._id, d.replay_count);
    const job = await queue.getJob(jobId);
    const state = job ? await job.getState() : 'missing';
    if (state === 'waiting' || state === 'active' || state === 'delayed' || state === 'prioritized' || state === 'waiting-children')
      continue;
    if (job) await job.remove();
    const name: JobName = 'webhook.deliver';
    await deps.producer.enqueue(name, { deliveryId: d._id, tenantId: d.tenant_id, replay: d.replay_count });
    requeued++;
  }
  if (requeued) deps.logger.warn({ requeued }, 'sweeper re-enqueued pending deliveries');
  return requeued;
}
