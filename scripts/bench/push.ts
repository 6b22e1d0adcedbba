/**
 * Push-latency benchmark of the Auth Relay (issues 3, 10):
 *   npm run bench:push -- [--rate 200] [--seconds 20] [--users 200]   (the scenario push.challenges)
 *        [--sat-seconds 10] [--sat-concurrency 256] [--tenants 16] [--warmup 5]
 *
 * Measures, from the moment a signed POST /relay/send/auth-challenge leaves the client to the moment
 * the fake FCM (test/fakes/fcm-server.ts, real HTTPS) has received each device's message, p50/p99 at
 * a fixed open-loop rate with 2 devices per user; then the accepted challenges per second at
 * saturation (closed loop). Real processes: the `web` process (api/server.ts) and a push worker
 * process (scripts/bench/push-worker.ts: workers/index.ts for the push queue, handed the fake's
 * https.Agent); the fake FCM runs here; Redis and FerretDB are the real ones from with-services.sh. Push fatigue is lifted (each user gets many
 * challenges); several tenants spread the load so the per-tenant rate limit (max 10,000/min) is
 * not what is measured.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import mongoose from 'mongoose';
import { parseConfig } from '../../platform/config.js';
import { connectMongo } from '../../platform/mongo.js';
import { workerRedis } from '../../platform/redis.js';
import { signedHeaders } from '../../platform/signing.js';
import { FakeFcmServer, createTestServiceAccount } from '../../test/fakes/fcm-server.js';
import { DeviceClient } from '../device.js';
import { ROOT, cpuProfArgs, startTs, waitForOutput, type Figure } from './common.js';
import { scenario, type Defer } from './scenario.js';

// The scenario names given to scripts/bench/run.ts are positionals here.
const { values: args } = parseArgs({
  allowPositionals: true,
  options: {
    rate: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '20' },
    users: { type: 'string', default: '200' },
    tenants: { type: 'string', default: '16' },
    'sat-seconds': { type: 'string', default: '10' },
    'sat-concurrency': { type: 'string', default: '256' },
    warmup: { type: 'string', default: '5' },
  },
});
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const USERS = Number(args.users);
const TENANTS = Number(args.tenants);
const SAT_SECONDS = Number(args['sat-seconds']);
const SAT_CONCURRENCY = Number(args['sat-concurrency']);
const WARMUP_SECONDS = Number(args.warmup);

const log = (...a: unknown[]) => console.log(...a);
const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};
const ms = (n: number) => `${n.toFixed(1)} ms`;

/** The fake FCM, the push worker process, the web process, the tenants and the paired devices. */
async function setup(defer: Defer) {
  const redisUrl = process.env.REDIS_URL;
  const mongoUri = process.env.MONGODB_URI;
  if (!redisUrl || !mongoUri) throw new Error('run through scripts/with-services.sh (REDIS_URL and MONGODB_URI)');
  const suffix = randomBytes(3).toString('hex');
  const dbUri = new URL(mongoUri);
  dbUri.pathname = `/bench_push_${suffix}`;
  const account = createTestServiceAccount('bloonio-bench');
  const env: Record<string, string> = {
    REDIS_URL: redisUrl,
    MONGODB_URI: dbUri.toString(),
    ADMIN_API_KEY: `bench-admin-${randomBytes(16).toString('hex')}`,
    SECRETS_MASTER_KEY: randomBytes(32).toString('hex'),
    QUEUE_PREFIX: `bench:${suffix}`,
    LOG_LEVEL: 'warn',
    CALLBACK_ALLOW_PRIVATE_NETWORKS: 'true',
    FCM_SERVICE_ACCOUNT_JSON: account.json,
    PUSH_FATIGUE_MAX: '100000',
  };
  const config = parseConfig(env);

  // 1. The fake FCM (in this process: it notes when each push arrives), and the push worker process routed to it.
  const fake = new FakeFcmServer(account);
  const { port: fakePort, agent } = await fake.start();
  defer('stopping the fake FCM', () => fake.stop());
  await connectMongo(config.mongodbUri);
  defer('disconnecting MongoDB', () => mongoose.disconnect());
  defer('dropping the database', () => mongoose.connection.dropDatabase().catch(() => undefined));
  const wredis = workerRedis(redisUrl);
  defer('closing Redis', () => wredis.quit());
  defer('deleting the queue keys', async () => {
    const keys = await wredis.keys(`${config.queuePrefix}*`);
    for (let i = 0; i < keys.length; i += 500) await wredis.del(...keys.slice(i, i + 500));
  });
  const worker = startTs(
    'scripts/bench/push-worker.ts',
    {
      ...env,
      BENCH_FAKE_FCM_PORT: String(fakePort),
      BENCH_FAKE_FCM_CA: String((agent as unknown as { options: { ca: string } }).options.ca),
    },
    [],
    cpuProfArgs(),
  );
  defer('stopping the push worker', () => worker.stop());
  await waitForOutput(worker, /workers started/, 'push worker process', 30_000);

  // 2. The web process.
  const port = await new Promise<number>((resolve) => {
    const s = http.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const api = spawn(process.execPath, ['--import', 'tsx', 'api/server.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  process.on('exit', () => api.kill('SIGKILL')); // never leave the web process behind
  defer('stopping the web process', () => api.kill('SIGTERM'));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (
      await fetch(`${base}/readyz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (i > 200) throw new Error('api did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }
  const agentPool = new http.Agent({ keepAlive: true, maxSockets: 512 });
  defer('closing the client sockets', () => agentPool.destroy());
  const post = (path: string, headers: Record<string, string>, body: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        `${base}${path}`,
        {
          method: 'POST',
          agent: agentPool,
          headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  // 3. Tenants, users, 2 devices per user.
  const tenants: { tenantId: string; secret: string }[] = [];
  for (let t = 0; t < TENANTS; t++) {
    const r = await post(
      '/api/v1/provision/tenant',
      { 'X-Admin-Key': env.ADMIN_API_KEY! },
      JSON.stringify({ tenant_name: `bench-${t}`, rate_limit_per_min: 10_000 }),
    );
    const d = JSON.parse(r.body).data;
    tenants.push({ tenantId: d.tenant_id, secret: d.tenant_secret });
  }
  const signedPost = (t: { tenantId: string; secret: string }, path: string, body: unknown) => {
    const raw = JSON.stringify(body);
    return post(`/api/v1${path}`, signedHeaders(t.tenantId, t.secret, raw), raw);
  };
  const users = Array.from({ length: USERS }, (_, i) => ({ hash: `ush_bench_${suffix}_${i}`, tenant: tenants[i % TENANTS]! }));
  const t0Pair = Date.now();
  for (let i = 0; i < users.length; i += 20) {
    await Promise.all(
      users.slice(i, i + 20).flatMap((u) =>
        [0, 1].map(async (d) => {
          const prep = await signedPost(u.tenant, '/relay/prepare-pairing', {
            user_socket_hash: u.hash,
            backend_user_id: u.hash,
            user_email: 'bench@example.com',
            display_name: `Bench device ${d}`,
          });
          if (prep.status !== 201) throw new Error(`prepare-pairing failed: ${prep.status} ${prep.body}`);
          const proof = JSON.parse(prep.body).data.pairing_proof as string;
          const dev = DeviceClient.create(base);
          const r = await dev.pair(proof, { fcmToken: `bench-token-${u.hash}-${d}`, platform: 'android' });
          if (r.status !== 201) throw new Error(`pairing failed: ${JSON.stringify(r.body)}`);
        }),
      ),
    );
  }
  log(`paired ${USERS} users × 2 devices across ${TENANTS} tenants in ${((Date.now() - t0Pair) / 1000).toFixed(1)} s`);
  await new Promise((r) => setTimeout(r, 1000)); // let the new-device alerts drain
  fake.reset();
  return { suffix, fake, users, signedPost };
}

/** Warm-up, then phase 1 (open loop: push latency) and phase 2 (closed loop: saturation). */
async function measure({ suffix, fake, users, signedPost }: Awaited<ReturnType<typeof setup>>) {
  const sentAt = new Map<string, bigint>();
  const apiMs: number[] = [];
  const statuses = new Map<number, number>();
  let seq = 0;
  const fire = async (): Promise<number> => {
    const u = users[seq++ % users.length]!;
    const instruction = `bench_${suffix}_${seq}`;
    const body = {
      user_socket_hash: u.hash,
      instruction_id: instruction,
      custom_type: 'localAuth',
      expected_action: 'bench',
      description: 'Benchmark challenge',
      ttl_seconds: 60,
    };
    const start = process.hrtime.bigint();
    sentAt.set(instruction, start);
    const r = await signedPost(u.tenant, '/relay/send/auth-challenge', body).catch(() => ({ status: 0, body: '' }));
    apiMs.push(Number(process.hrtime.bigint() - start) / 1e6);
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    return r.status;
  };

  // Warm-up (not measured): fills the fan-out cache and the connection pools, as a running relay has them.
  if (WARMUP_SECONDS > 0) {
    const warmUntil = Date.now() + WARMUP_SECONDS * 1000;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (Date.now() < warmUntil) await fire();
      }),
    );
    await new Promise((r) => setTimeout(r, 2000));
    fake.reset();
    sentAt.clear();
    apiMs.length = 0;
    statuses.clear();
    log(`warm-up: ${WARMUP_SECONDS} s, 16 concurrent clients (not measured)`);
  }

  // 4. Open loop: RATE challenges per second for SECONDS seconds.
  log(`\nphase 1: ${RATE} challenges/s for ${SECONDS} s (open loop), 2 devices per user`);
  const total = RATE * SECONDS;
  const inflight: Promise<number>[] = [];
  const startAll = Date.now();
  for (let i = 0; i < total; i++) {
    const due = startAll + (i * 1000) / RATE;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inflight.push(fire());
  }
  await Promise.all(inflight);
  const until = Date.now() + 10_000;
  while (fake.received.length < total * 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  const pushMs: number[] = [];
  for (const m of fake.received) {
    const s = m.data?.instruction_id ? sentAt.get(m.data.instruction_id) : undefined;
    if (s !== undefined) pushMs.push(Number(m.receivedAt - s) / 1e6);
  }
  log(`  requests: ${total}, statuses: ${JSON.stringify(Object.fromEntries(statuses))}`);
  log(`  pushes received by the fake FCM: ${pushMs.length} of ${total * 2}`);
  log(
    `  push latency (request sent → FCM received): p50 ${ms(pct(pushMs, 50))}, p99 ${ms(pct(pushMs, 99))}, max ${ms(Math.max(...pushMs))}`,
  );
  log(`  API answer latency (incl. the bounded wait for the pushes): p50 ${ms(pct(apiMs, 50))}, p99 ${ms(pct(apiMs, 99))}`);

  // 5. Closed loop at saturation.
  log(`\nphase 2: saturation, ${SAT_CONCURRENCY} concurrent clients for ${SAT_SECONDS} s`);
  statuses.clear();
  apiMs.length = 0;
  fake.reset();
  const stopAt = Date.now() + SAT_SECONDS * 1000;
  let accepted = 0;
  const satStart = Date.now();
  await Promise.all(
    Array.from({ length: SAT_CONCURRENCY }, async () => {
      while (Date.now() < stopAt) {
        const s = await fire();
        if (s === 200 || s === 202) accepted++;
      }
    }),
  );
  const satSecs = (Date.now() - satStart) / 1000;
  log(`  statuses: ${JSON.stringify(Object.fromEntries(statuses))}`);
  log(
    `  accepted: ${accepted} in ${satSecs.toFixed(1)} s = ${(accepted / satSecs).toFixed(0)} challenges/s; API p50 ${ms(pct(apiMs, 50))}, p99 ${ms(pct(apiMs, 99))}`,
  );
  log(`  pushes received during the phase: ${fake.received.length}`);
  return { pushMs, total, accepted, satSecs };
}

function report({ pushMs, total, accepted, satSecs }: Awaited<ReturnType<typeof measure>>): Figure[] {
  const p99 = pct(pushMs, 99);
  const satRate = accepted / satSecs;
  const allPushed = pushMs.length === total * 2;
  log(
    `\npush p99 at ${RATE}/s: ${ms(p99)} (target <= 50 ms${allPushed ? '' : ', and every push received'}); saturation ${satRate.toFixed(0)}/s (target >= 1000/s)`,
  );
  return [
    {
      figure: `push challenge accepted → fake FCM received, p99 at ${RATE}/s`,
      value: Number(p99.toFixed(1)),
      unit: 'ms',
      target: '≤ 50 ms, every push received',
      met: p99 <= 50 && allPushed,
    },
    {
      figure: 'push challenges accepted/s at saturation',
      value: Number(satRate.toFixed(0)),
      unit: '/s',
      target: '≥ 1,000/s',
      met: satRate >= 1000,
    },
  ];
}

export const scenarios = [
  scenario({
    name: 'push.challenges',
    about: 'push challenge accepted → fake FCM received, p99 at a fixed rate, then challenges accepted/s at saturation',
    setup,
    run: measure,
    report,
  }),
];
