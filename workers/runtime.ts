/**
 * Builds the BullMQ workers of one worker process: one Worker per queue that has jobs in the
 * catalogue, dispatching on the job name to its typed processor, with the job's timeout enforced
 * through an AbortSignal. `close()` stops taking jobs and waits for the running ones, up to a deadline.
 */
import { Worker, UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import { workerRedis } from '../platform/redis.js';
import { withTimeout } from '../platform/with-timeout.js';
import { JOB_CATALOGUE, jobsOfQueue, type JobName } from '../queues/catalogue.js';
import { ALL_QUEUES, QUEUE, bullPrefix, type QueueName } from '../queues/names.js';
import { backoffStrategy } from './backoff.js';
import type { Processor, Processors } from './processors.js';

/**
 * Jobs one process runs at once per queue: deliveries by their setting; pushes and chat messages
 * many, since what they wait on is I/O — FCM, and the batched writes they share (more in flight,
 * bigger batches: with 20, a push queue whose jobs each wait ~50 ms on a FerretDB batch tops out
 * near 400 jobs/s and the backlog became the push latency); the rest 20.
 */
function concurrencyOf(queue: QueueName, config: Config): number {
  if (queue === QUEUE.webhookDelivery) return config.deliveryConcurrency;
  if (queue === QUEUE.push) return config.pushConcurrency;
  if (queue === QUEUE.chatHistory) return 256;
  return 20;
}

export type WorkerFleet = { workers: Worker[]; close: () => Promise<void> };

export async function startWorkers(
  config: Config,
  logger: Logger,
  built: { processors: Processors; close?: () => Promise<void> },
  opts: { queues?: QueueName[] } = {},
): Promise<WorkerFleet> {
  const { processors } = built;
  const queues = (opts.queues ?? ALL_QUEUES).filter((q) => jobsOfQueue(q).length > 0);
  const connections: Redis[] = [];
  const workers = queues.map((queue) => {
    const connection = workerRedis(config.redisUrl);
    connections.push(connection);
    const worker = new Worker(queue, (job, token) => dispatch(job, token, processors, config), {
      connection,
      prefix: bullPrefix(config, queue),
      concurrency: concurrencyOf(queue, config),
      lockDuration: config.jobLockMs,
      stalledInterval: Math.max(1000, Math.floor(config.jobLockMs / 2)),
      maxStalledCount: 5,
      settings: { backoffStrategy: backoffStrategy(config) },
    });
    worker.on('error', (err) => logger.error({ queue, err: String(err) }, 'worker error'));
    worker.on('failed', (job, err) => {
      if (job && !(err instanceof UnrecoverableError) && job.attemptsMade >= (job.opts.attempts ?? 1)) {
        logger.error({ queue, job_id: job.id, job: job.name, err: err.message }, 'job failed for good');
      }
    });
    return worker;
  });

  // The sweeper runs on a schedule; upserting the scheduler from every worker process is idempotent.
  if (queues.includes(QUEUE.maintenance)) {
    const { Queue } = await import('bullmq');
    const q = new Queue(QUEUE.maintenance, { connection: workerRedis(config.redisUrl), prefix: bullPrefix(config, QUEUE.maintenance) });
    const name: JobName = 'maintenance.sweep-deliveries';
    await q.upsertJobScheduler(
      'sweep-deliveries',
      { every: config.deliverySweepEveryMs },
      { name, data: {}, opts: JOB_CATALOGUE[name].options(config) },
    );
    await q.close();
  }

  await Promise.all(workers.map((w) => w.waitUntilReady()));
  logger.info({ queues, concurrency: config.deliveryConcurrency }, 'workers started');

  return {
    workers,
    close: async () => {
      // Stop taking jobs and give the running ones most of the shutdown budget (the process exits at the
      // full WORKER_SHUTDOWN_TIMEOUT_MS whatever happens: workers/index.ts). pause(), not close(): BullMQ's
      // close(true) after a close() returns the first close's promise, which waits for the jobs forever.
      const budget = Math.floor(config.workerShutdownTimeoutMs * 0.8);
      const deadline = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), budget).unref());
      const drained = Promise.all(workers.map((w) => w.pause())).then(() => 'drained' as const);
      if ((await Promise.race([drained, deadline])) === 'timeout') {
        // Jobs still running will be picked up again as stalled by another worker: nothing is lost.
        logger.warn('shutdown deadline reached; forcing workers closed');
      }
      // What the processors hold open (the FCM sender, batched writes in flight) closes once no job runs.
      await built.close?.().catch((err: unknown) => logger.warn({ err: String(err) }, 'closing the processors failed'));
      await Promise.all(connections.map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}

async function dispatch(job: Job, token: string | undefined, processors: Processors, config: Config): Promise<unknown> {
  const name = job.name as JobName;
  const def = JOB_CATALOGUE[name];
  if (!def) throw new UnrecoverableError(`no such job ${job.name}`);
  const parsed = def.payload.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`invalid payload for ${job.name}`);
  // The job's timeout aborts its I/O through the signal. A processor still running well past it is
  // waiting on something the signal cannot reach (a store that stopped answering): the job fails
  // then, so the worker's slot and the job go on (it is retried) instead of both hanging for good
  // while the lock is renewed. The bound leaves room to record the outcome after an abort (a batched
  // write is bounded by STORE_WRITE_TIMEOUT_MS).
  const timeoutMs = def.timeoutMs(config);
  const hardMs = timeoutMs + config.storeWriteTimeoutMs + OVERDUE_GRACE_MS;
  const controller = new AbortController();
  const soft = setTimeout(() => controller.abort(new Error(`${job.name} timed out`)), timeoutMs);
  try {
    const processor = processors[name] as Processor<typeof name>;
    // Settling after the bound changes nothing: the job has failed and is retried by then.
    return await withTimeout(
      processor(job, token, parsed.data as never, controller.signal),
      hardMs,
      () => new Error(`${job.name} still running ${hardMs} ms after it started; failed so it is retried`),
    );
  } finally {
    clearTimeout(soft);
  }
}

/** Beyond a job's timeout and a batched write's bound: what an aborted job may take to wind up. */
const OVERDUE_GRACE_MS = 5000;
