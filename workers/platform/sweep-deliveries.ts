/**
 * The maintenance sweep: re-enqueue pending deliveries whose job went missing. Jobs are durable in
 * Redis (AOF, noeviction) and every delivery starts as a job, so this only matters after Redis lost
 * data (a restore from an older snapshot, a failover to a replica that missed writes): a delivery
 * that MongoDB says is waiting for a retry, with no job, gets one again, built from its record. Runs
 * on a schedule; safe on several workers at once because job ids are fixed.
 */
import type { Queue } from 'bullmq';
import { DeliveryModel, deliveryJobOf, type DeliveryDoc } from '../../models/platform/delivery.js';
import type { Logger } from '../../platform/logger.js';
import { deliveryJobId, type JobName, type JobOutcome } from '../../queues/catalogue.js';
import type { Producer } from '../../queues/producer.js';

const BATCH = 500;

export async function sweepDeliveries(
  deps: { producer: Producer; logger: Logger; config: { deliverySweepGraceMs: number } },
  queue: Queue,
): Promise<JobOutcome<'maintenance.sweep-deliveries'>> {
  const overdue = await DeliveryModel.find({
    status: 'pending',
    next_attempt_at: { $lte: new Date(Date.now() - deps.config.deliverySweepGraceMs) },
  })
    .limit(BATCH)
    .lean<DeliveryDoc[]>();
  let requeued = 0;
  for (const d of overdue) {
    const jobId = deliveryJobId(d._id, d.replay_count);
    const job = await queue.getJob(jobId);
    const state = job ? await job.getState() : 'missing';
    if (state === 'waiting' || state === 'active' || state === 'delayed' || state === 'prioritized' || state === 'waiting-children')
      continue;
    if (job) await job.remove();
    const name: JobName = 'webhook.deliver';
    await deps.producer.enqueue(name, deliveryJobOf(d));
    requeued++;
  }
  if (requeued) deps.logger.warn({ requeued }, 'sweeper re-enqueued pending deliveries');
  return requeued;
}
