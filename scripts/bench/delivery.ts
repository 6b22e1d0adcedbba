/**
 * Delivery throughput (issue 10): 20,000 events delivered by a real worker process (workers/index.ts)
 * to a fast local receiver (scripts/bench/receiver.ts, a separate process answering 200), after the
 * same number of jobs taken by a BullMQ worker doing nothing (scripts/bench/noop-worker.ts: the
 * baseline, same queue, Redis and concurrency); then the fairness run: the same healthy load while
 * another tenant's endpoint hangs (never answers); optionally (`two`) with two worker processes.
 *
 *   npm run bench:delivery                   (the scenario delivery.throughput)
 *
 * The deliveries are queued in bulk before any worker runs: the webhook.deliver jobs emitEvent()
 * enqueues (the job carries the body and URL; the worker records the event, the delivery and its
 * attempts in MongoDB in batches). Each run starts with the queue full and no worker; the clock starts
 * when the first worker process is up (or at the first delivery received, if earlier) and stops at the
 * last healthy delivery received. Completion is counted twice: distinct event ids at the receiver and
 * delivery records with status `succeeded`. Each run has its own tenants and queue prefix.
 *
 * Knobs (env): BENCH_EVENTS (20000), BENCH_TENANTS (healthy tenants sharing the events, 1),
 * BENCH_HANG_EVENTS (2000), BENCH_RUNS (comma list of noop,one,fair,two; default noop,one,fair), BENCH_RUN_TIMEOUT_S (180),
 * BENCH_CPU_PROF (a directory: the worker of the one-worker run writes a V8 CPU profile there).
 * Worker knobs pass through from the environment (platform/config.ts): DELIVERY_CONCURRENCY,
 * DELIVERY_TENANT_CONCURRENCY, DELIVERY_CIRCUIT_*, CALLBACK_TIMEOUT_MS (default here: 10000, the
 * production default).
 */
import mongoose from 'mongoose';
import { DeliveryModel } from '../../models/platform/delivery.js';
import { parseConfig } from '../../platform/config.js';
import { newId, newTenantId } from '../../platform/ids.js';
import { connectMongo, disconnectMongo } from '../../platform/mongo.js';
import { apiRedis, waitReady } from '../../platform/redis.js';
import { CALLBACK_EVENTS } from '../../models/platform/callback-catalogue.js';
import { callbackUrl } from '../../models/platform/emit-event.js';
import type { JobInput } from '../../queues/catalogue.js';
import { Producer } from '../../queues/producer.js';
import {
  benchEnv,
  cleanUp,
  cpuProfArgs,
  fmt,
  machine,
  provisionTenants,
  sleep,
  startApi,
  startHelper,
  startTs,
  startWorker,
  table,
  waitForOutput,
  type Proc,
  type Figure,
  type Tenant,
} from './common.js';
import { cpuMeter, servicePids } from './cpu.js';
import { scenario, type Defer } from './scenario.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const TENANTS = Number(process.env.BENCH_TENANTS ?? 1);
const HANG_EVENTS = Number(process.env.BENCH_HANG_EVENTS ?? 2000);
const RUNS = (process.env.BENCH_RUNS ?? 'noop,one,fair').split(',').map((s) => s.trim());
const RUN_TIMEOUT_MS = Number(process.env.BENCH_RUN_TIMEOUT_S ?? 180) * 1000;
/** The catalogue's path for platform.test: the worker signs a job only for the catalogue's URL (deliver-webhook.ts). */
const PATH = CALLBACK_EVENTS['platform.test'].path({ _id: '' });

type Stats = {
  total: number;
  distinct: number;
  first_ms: number;
  last_ms: number;
  hanging_open: number;
  hanging_total: number;
  tenants: Record<string, { distinct: number; first_ms: number; last_ms: number }>;
};
type RunResult = {
  name: string;
  workers: number;
  events: number;
  delivered: number;
  succeeded_records: number;
  duplicates: number;
  seconds: number;
  per_sec: number;
  enqueue_seconds: number;
  hang_events: number;
  hang_attempts: number;
  timed_out: boolean;
  cpu_seconds: Record<string, number>;
};

/** What emitEvent enqueues for one event: the job carries the body and the URL (models/platform/emit-event.ts). */
function deliveryJob(t: { tenantId: string; base: string }): JobInput<'webhook.deliver'> {
  const eventId = newId('evt');
  const createdAt = new Date();
  const body = JSON.stringify({
    event_id: eventId,
    event_type: 'platform.test',
    tenant_id: t.tenantId,
    created_at: createdAt.toISOString(),
    data: { note: 'bench' },
  });
  return {
    deliveryId: newId('dlv'),
    tenantId: t.tenantId,
    replay: 0,
    eventId,
    eventType: 'platform.test',
    url: callbackUrl(t.base, PATH),
    body,
    createdAt: createdAt.getTime(),
  };
}

async function enqueueAll(producer: Producer, deliveries: JobInput<'webhook.deliver'>[]): Promise<void> {
  for (let i = 0; i < deliveries.length; i += 500) {
    await producer.enqueueMany(deliveries.slice(i, i + 500).map((payload) => ({ name: 'webhook.deliver' as const, payload })));
  }
}

/** The baseline: the same jobs taken by a BullMQ worker whose processor does nothing. */
async function noopRun(env: Record<string, string>, runEnvs: Record<string, string>[]): Promise<RunResult> {
  const runEnv = { ...env, QUEUE_PREFIX: `${env.QUEUE_PREFIX}:noop` };
  runEnvs.push(runEnv);
  const config = parseConfig(runEnv);
  const redis = apiRedis(config.redisUrl, { commandTimeout: 30_000 });
  await waitReady(redis);
  const producer = new Producer(config, redis);
  const t0 = Date.now();
  await enqueueAll(
    producer,
    Array.from({ length: EVENTS }, () => deliveryJob({ tenantId: newTenantId(), base: 'http://127.0.0.1:9/ok' })),
  );
  const enqueueSeconds = (Date.now() - t0) / 1000;
  const w = startTs('scripts/bench/noop-worker.ts', { ...runEnv, BENCH_NOOP_JOBS: String(EVENTS) });
  try {
    await waitForOutput(w, /\{"ready":true\}/, 'no-op worker');
    const meter = cpuMeter({ worker: w.proc.pid!, ...servicePids(env.REDIS_URL!, env.MONGODB_URI!) });
    const m = await waitForOutput(w, /\{"done":(\d+),"first_ms":(\d+),"last_ms":(\d+)\}/, 'no-op worker run', RUN_TIMEOUT_MS);
    const cpu = meter();
    const seconds = (Number(m[3]) - Number(m[2])) / 1000;
    const r: RunResult = {
      name: 'noop',
      workers: 1,
      events: EVENTS,
      delivered: Number(m[1]),
      succeeded_records: -2,
      duplicates: 0,
      seconds: Number(seconds.toFixed(2)),
      per_sec: Number((Number(m[1]) / seconds).toFixed(0)),
      enqueue_seconds: Number(enqueueSeconds.toFixed(1)),
      hang_events: 0,
      hang_attempts: 0,
      timed_out: false,
      cpu_seconds: cpu,
    };
    console.error(`bench: noop: ${r.delivered} jobs in ${fmt(seconds, 2)} s = ${r.per_sec}/s; cpu s ${JSON.stringify(cpu)}`);
    return r;
  } finally {
    await w.stop();
    await producer.close();
    await redis.quit();
  }
}

/** The bench's environment and the receiver every run delivers to; each run adds its own database and prefix. */
async function setup(defer: Defer) {
  const env = benchEnv('delivery', {
    CALLBACK_TIMEOUT_MS: process.env.CALLBACK_TIMEOUT_MS ?? '10000',
    WORKER_SHUTDOWN_TIMEOUT_MS: process.env.WORKER_SHUTDOWN_TIMEOUT_MS ?? '3000',
  });
  const started: Proc[] = [];
  const runEnvs: Record<string, string>[] = [];
  defer('clean-up', async () => {
    for (const e of [env, ...runEnvs]) await cleanUp(e).catch((err: unknown) => console.error(`bench: clean-up failed: ${String(err)}`));
  });
  defer('stopping the processes', async () => {
    for (const p of started.reverse()) await p.stop();
  });
  const receiver = await startHelper('scripts/bench/receiver.ts');
  started.push(receiver);
  return { env, started, runEnvs, receiver };
}

/** The runs of BENCH_RUNS, one after the other, each on a full queue. */
async function measure({ env, started, runEnvs, receiver }: Awaited<ReturnType<typeof setup>>): Promise<RunResult[]> {
  const stats = async (url: string) => (await (await fetch(`${url}/stats`)).json()) as Stats;
  // Every run has its own database and queue prefix (FerretDB's SQLite backend scans whole
  // collections, so a run must not inherit the previous run's documents), and its own tenants,
  // provisioned through the admin API of a web process that is stopped before the run.
  const results: RunResult[] = [];
  for (const run of RUNS) {
    if (run === 'noop') {
      results.push(await noopRun(env, runEnvs));
      continue;
    }
    const workers = run === 'two' ? 2 : 1;
    const hang = run === 'fair' ? HANG_EVENTS : 0;
    const uri = new URL(env.MONGODB_URI!);
    uri.pathname = `${uri.pathname}_${run}`;
    const runEnv = { ...env, MONGODB_URI: uri.toString(), QUEUE_PREFIX: `${env.QUEUE_PREFIX}:${run}` };
    runEnvs.push(runEnv);
    const api = await startApi(runEnv);
    started.push(api);
    const healthy: Record<string, Tenant[]> = {
      [run]: await provisionTenants(api.url, TENANTS, { callback_url_base: `${receiver.url}/ok` }),
    };
    const [hangTenant] = hang ? await provisionTenants(api.url, 1, { callback_url_base: `${receiver.url}/hang` }) : [];
    await api.stop();
    await connectMongo(runEnv.MONGODB_URI);
    const config = parseConfig(runEnv);
    const redis = apiRedis(config.redisUrl, { commandTimeout: 30_000 });
    await waitReady(redis);
    const producer = new Producer(config, redis);

    // 1. The backlog: healthy events spread over the tenants, the hanging tenant's interleaved.
    const t0 = Date.now();
    const targets: { tenantId: string; base: string }[] = [];
    for (let i = 0; i < EVENTS; i++) targets.push({ tenantId: healthy[run]![i % TENANTS]!.tenantId, base: `${receiver.url}/ok` });
    for (let j = 0; j < hang; j++)
      targets.splice(Math.floor(((j + 0.5) * targets.length) / hang), 0, {
        tenantId: hangTenant!.tenantId,
        base: `${receiver.url}/hang`,
      });
    // What emitEvent enqueues: the job carries the body and the URL (models/platform/emit-event.ts).
    const deliveries = targets.map(deliveryJob);
    await enqueueAll(producer, deliveries);
    const enqueueSeconds = (Date.now() - t0) / 1000;
    console.error(
      `bench: ${run}: ${deliveries.length} deliveries queued in ${fmt(enqueueSeconds, 1)} s; starting ${workers} worker process(es)`,
    );

    // 2. Workers on a full queue; poll the receiver until every healthy event arrived.
    await fetch(`${receiver.url}/reset`, { method: 'POST' });
    const healthyIds = new Set(healthy[run]!.map((t) => t.tenantId));
    const spawnedAt = Date.now();
    const nodeArgs = run === 'one' ? cpuProfArgs() : [];
    const ws = await Promise.all(Array.from({ length: workers }, () => startWorker(runEnv, nodeArgs)));
    started.push(...ws);
    const meter = cpuMeter({
      ...Object.fromEntries(ws.map((w, i) => [`worker${workers > 1 ? i + 1 : ''}`, w.proc.pid!])),
      receiver: receiver.proc.pid!,
      ...servicePids(env.REDIS_URL!, env.MONGODB_URI!),
    });
    const readyAt = Math.min(...ws.map((w) => w.readyAt));
    let s = await stats(receiver.url);
    const healthyCount = (x: Stats) =>
      Object.entries(x.tenants)
        .filter(([id]) => healthyIds.has(id))
        .reduce((a, [, c]) => a + c.distinct, 0);
    const deadline = Date.now() + RUN_TIMEOUT_MS;
    while (healthyCount(s) < EVENTS && Date.now() < deadline) {
      await sleep(100);
      s = await stats(receiver.url);
    }
    const cpu = meter();
    const delivered = healthyCount(s);
    const healthyStats = Object.entries(s.tenants)
      .filter(([id]) => healthyIds.has(id))
      .map(([, c]) => c);
    const firstMs = Math.min(...healthyStats.map((c) => c.first_ms), readyAt);
    const lastMs = delivered >= EVENTS ? Math.max(...healthyStats.map((c) => c.last_ms)) : Date.now();
    const seconds = (lastMs - firstMs) / 1000;

    // 3. Cross-check the records (their update lands just after the receiver answered); a run that
    // timed out stops its workers first and counts once. Bounded: at most ~20 s.
    const timedOut = delivered < EVENTS;
    if (timedOut) for (const w of ws) await w.stop();
    const tenantIds = [...healthyIds];
    let succeeded: number;
    const countUntil = Date.now() + 20_000;
    do {
      // -1 = the store could not count in time (FerretDB scans the whole collection for this filter).
      succeeded = await DeliveryModel.countDocuments({ tenant_id: { $in: tenantIds }, status: 'succeeded' })
        .maxTimeMS(30_000)
        .catch(() => -1);
      if (succeeded < 0) break;
      if (succeeded >= delivered || timedOut) break;
      await sleep(250);
    } while (Date.now() < countUntil);
    for (const w of ws) await w.stop();
    const result: RunResult = {
      name: run,
      workers,
      events: EVENTS,
      delivered,
      succeeded_records: succeeded,
      duplicates: s.total - s.distinct,
      seconds: Number(seconds.toFixed(2)),
      per_sec: Number((delivered / seconds).toFixed(0)),
      enqueue_seconds: Number(enqueueSeconds.toFixed(1)),
      hang_events: hang,
      hang_attempts: s.hanging_total,
      timed_out: timedOut,
      cpu_seconds: cpu,
    };
    results.push(result);
    console.error(
      `bench: ${run}: ${delivered}/${EVENTS} delivered in ${fmt(seconds, 2)} s = ${result.per_sec}/s (workers up ${((readyAt - spawnedAt) / 1000).toFixed(1)} s after spawn); cpu s ${JSON.stringify(cpu)}`,
    );
    await producer.close();
    await redis.quit();
    await mongoose.connection.dropDatabase().catch(() => undefined);
    await disconnectMongo();
  }
  return results;
}

/** One row per run, the targets, and the figures. */
async function report(results: RunResult[], { env }: Awaited<ReturnType<typeof setup>>): Promise<Figure[]> {
  const noop = results.find((r) => r.name === 'noop');
  const baseline = results.find((r) => r.name === 'one');
  const fair = results.find((r) => r.name === 'fair');
  const fairRatio = baseline && fair ? fair.per_sec / baseline.per_sec : NaN;
  const label: Record<string, string> = {
    noop: 'BullMQ no-op worker (baseline)',
    one: '1 worker',
    two: '2 workers',
    fair: `1 worker + hanging tenant (${HANG_EVENTS} ev)`,
  };
  const m = await machine();
  const knobs = {
    DELIVERY_CONCURRENCY: process.env.DELIVERY_CONCURRENCY ?? '100 (default)',
    DELIVERY_TENANT_CONCURRENCY: process.env.DELIVERY_TENANT_CONCURRENCY ?? '10 (default)',
    CALLBACK_TIMEOUT_MS: env.CALLBACK_TIMEOUT_MS,
  };
  console.log(
    `\nDelivery throughput: ${EVENTS} events over ${TENANTS} healthy tenant(s) per run; ${m.cpus} CPUs (${m.cpu_model}), node ${m.node}; ${Object.entries(
      knobs,
    )
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`,
  );
  console.log(
    table(
      ['run', 'delivered', 'records ok', 'seconds', 'deliveries/s', 'dupes', 'hang attempts', 'cpu s (worker/redis/ferretdb/receiver)'],
      results.map((r) => [
        label[r.name] ?? r.name,
        `${r.delivered}/${r.events}${r.timed_out ? ' (timed out)' : ''}`,
        r.succeeded_records === -2 ? '-' : r.succeeded_records < 0 ? 'n/a (count timed out)' : r.succeeded_records,
        fmt(r.seconds, 2),
        r.per_sec,
        r.duplicates,
        r.hang_events ? r.hang_attempts : '-',
        Object.entries(r.cpu_seconds)
          .map(([k, v]) => `${k} ${v}`)
          .join(', '),
      ]),
    ),
  );
  const noopRatio = baseline && noop ? baseline.per_sec / noop.per_sec : NaN;
  const oneOk = baseline ? baseline.per_sec >= 2000 && !baseline.timed_out && baseline.succeeded_records >= baseline.delivered : false;
  const ratioOk = Number.isFinite(noopRatio) && noopRatio >= 0.25;
  const fairOk = Number.isFinite(fairRatio) && fairRatio >= 0.9 && !fair!.timed_out;
  console.log(
    `\none worker: ${baseline ? `${baseline.per_sec}/s` : 'not run'} (target >= 2000/s: ${oneOk ? 'met' : 'NOT met'}), ${fmt(noopRatio, 3)}x the no-op worker (target >= 0.25: ${ratioOk ? 'met' : 'NOT met'})`,
  );
  console.log(
    `healthy throughput with a hanging tenant: ${fmt(fairRatio * 100, 1)}% of the run without it (target >= 90%: ${fairOk ? 'met' : 'NOT met'})`,
  );
  const figures: Figure[] = [];
  if (baseline)
    figures.push({
      figure: 'webhook deliveries/s, one worker process',
      value: baseline.per_sec,
      unit: '/s',
      ...(noop ? { baseline: { name: 'BullMQ no-op worker', value: noop.per_sec } } : {}),
      target: '≥ 2,000/s and ≥ 0.25× no-op',
      met: oneOk && ratioOk,
    });
  if (fair)
    figures.push({
      figure: 'healthy tenant while another hangs',
      value: Number((fairRatio * 100).toFixed(1)),
      unit: '% of its throughput',
      target: '≥ 90%',
      met: fairOk,
    });
  return figures;
}

export const scenarios = [
  scenario({
    name: 'delivery.throughput',
    about: 'callbacks delivered/s by one worker process against a no-op BullMQ worker, and with a hanging tenant',
    setup,
    run: measure,
    report,
  }),
];
