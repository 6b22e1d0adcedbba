/**
 * Typed producer over the job catalogue. Used by the API (with a fail-fast Redis connection: a
 * Redis outage becomes a 503, not a hang) and by workers that chain jobs.
 */
import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../platform/config.js';
import { DomainError } from '../platform/errors.js';
import { JOB_CATALOGUE, type JobInput, type JobName, type JobPayload } from './catalogue.js';
import { ALL_QUEUES, bullPrefix, type QueueName } from './names.js';

export class Producer {
  readonly queues: Map<QueueName, Queue>;

  constructor(
    private readonly config: Config,
    connection: Redis,
  ) {
    this.queues = new Map(ALL_QUEUES.map((q) => [q, new Queue(q, { connection, prefix: bullPrefix(config, q) })]));
  }

  queue(name: QueueName): Queue {
    const q = this.queues.get(name);
    if (!q) throw new Error(`unknown queue ${name}`);
    return q;
  }

  async enqueue<N extends JobName>(name: N, payload: JobInput<N>, extra: JobsOptions = {}): Promise<string> {
    const def = JOB_CATALOGUE[name];
    // A payload that does not match its schema is a bug in the caller: fail loudly here, not in the worker.
    const data = def.payload.parse(payload) as JobPayload<N>;
    const jobId = 'jobId' in def && def.jobId ? (def.jobId as (p: JobPayload<N>) => string)(data) : undefined;
    try {
      const job = await this.queue(def.queue).add(name, data, { ...def.options(this.config), ...(jobId ? { jobId } : {}), ...extra });
      return job.id ?? '';
    } catch {
      throw new DomainError('STORE_UNAVAILABLE', 'The job queue is unavailable; try again shortly.', [], 5);
    }
  }

  /**
   * Several jobs in one go: one addBulk (one round trip) per queue they belong to. All or nothing per
   * queue: BullMQ adds a bulk in one MULTI.
   */
  async enqueueMany(jobs: { [N in JobName]: { name: N; payload: JobInput<N>; opts?: JobsOptions } }[JobName][]): Promise<void> {
    const byQueue = new Map<QueueName, { name: string; data: unknown; opts: JobsOptions }[]>();
    for (const j of jobs) {
      const def = JOB_CATALOGUE[j.name];
      const data = def.payload.parse(j.payload);
      const jobId = 'jobId' in def && def.jobId ? (def.jobId as (p: unknown) => string)(data) : undefined;
      const list = byQueue.get(def.queue) ?? [];
      list.push({ name: j.name, data, opts: { ...def.options(this.config), ...(jobId ? { jobId } : {}), ...j.opts } });
      byQueue.set(def.queue, list);
    }
    try {
      await Promise.all([...byQueue].map(([q, list]) => this.queue(q).addBulk(list)));
    } catch {
      throw new DomainError('STORE_UNAVAILABLE', 'The job queue is unavailable; try again shortly.', [], 5);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}
