/**
 * The delivery benchmark's baseline: a BullMQ worker process whose processor does nothing, on the
 * same queue, prefix, Redis and concurrency as the relay's delivery worker. Prints `{"ready":true}`
 * once it takes jobs, then `{"done":N,"first_ms":…,"last_ms":…}` after BENCH_NOOP_JOBS completions.
 * Env: REDIS_URL, QUEUE_PREFIX, BENCH_NOOP_JOBS, DELIVERY_CONCURRENCY (100).
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

const target = Number(process.env.BENCH_NOOP_JOBS ?? 0);
const connection = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null, enableReadyCheck: false });
let done = 0;
let first = 0;
let last = 0;
const worker = new Worker('webhook-delivery', async () => undefined, {
  connection,
  prefix: process.env.QUEUE_PREFIX,
  concurrency: Number(process.env.DELIVERY_CONCURRENCY ?? 100),
  removeOnComplete: { count: 0 },
});
worker.on('completed', () => {
  const now = Date.now();
  if (!first) first = now;
  last = now;
  if (++done === target) process.stdout.write(`${JSON.stringify({ done, first_ms: first, last_ms: last })}\n`);
});
await worker.waitUntilReady();
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
const stop = () => void worker.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
