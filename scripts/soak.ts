/**
 * `npm run soak [-- --minutes N]`: mixed load on a real relay (a spawned API and worker, the Redis and
 * FerretDB of scripts/with-services.sh) for N minutes (default 30), printing once a minute the RSS
 * of both processes, the API's heap and event-loop delay (from its /metrics), the queue depths, and
 * what was sent and answered. Not part of CI: a long run on a quiet machine, e.g. before a release.
 *
 * Load (about 45 requests/s): signed test-callbacks (20/s, each a callback to a local receiver),
 * auth challenges pushed to a paired device that polls and answers them (5/s), chat messages in a
 * conversation (10/s, each fanned out and called back), device polls and signed reads.
 * At the end: memory must be flat after the warm-up (RSS and heap growth from the end of minute
 * WARMUP to the last minute under 15%), else the exit code is 1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import { signedHeaders } from '../platform/signing.js';
import { DeviceClient } from './device.js';

const { values } = parseArgs({ options: { minutes: { type: 'string' }, rate: { type: 'string' } } });
const MINUTES = Number(values.minutes ?? 30);
const SCALE = Number(values.rate ?? 1); // multiplies every rate
if (!(MINUTES > 0) || !(SCALE > 0)) {
  console.error('usage: npm run soak -- [--minutes 30] [--rate 1]');
  process.exit(2);
}
const WARMUP = Math.min(2, Math.max(1, Math.floor(MINUTES / 3)));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
if (!process.env.REDIS_URL || !process.env.MONGODB_URI) {
  console.error('soak: REDIS_URL and MONGODB_URI are needed: run it as `npm run soak`');
  process.exit(2);
}

async function freePort(): Promise<number> {
  const srv = http.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

const id = `${process.pid}_${randomBytes(2).toString('hex')}`;
const mongoUri = new URL(process.env.MONGODB_URI);
mongoUri.pathname = `/soak_${id}`;
const port = await freePort();
const env: Record<string, string> = {
  ...(process.env as Record<string, string>),
  PORT: String(port),
  MONGODB_URI: mongoUri.toString(),
  QUEUE_PREFIX: `soak:${id}`,
  ADMIN_API_KEY: `soak_admin_${randomBytes(18).toString('base64url')}`,
  SECRETS_MASTER_KEY: `soak:${randomBytes(32).toString('hex')}`,
  CALLBACK_ALLOW_PRIVATE_NETWORKS: 'true',
  PUSH_FATIGUE_MAX: '100000',
  PUSH_FATIGUE_WINDOW_SECONDS: '1',
  PUSH_SYNC_WAIT_MS: '200',
  LOG_LEVEL: 'warn',
};
const base = `http://127.0.0.1:${port}`;

const children: ChildProcess[] = [];
function run(entry: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { cwd: ROOT, env, stdio: ['ignore', 'inherit', 'inherit'] });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`soak: ${entry} exited (${signal ?? code}) during the run`);
      process.exitCode = 1;
    }
  });
  children.push(child);
  return child;
}
let stopping = false;

// A receiver for every callback: answers 200 at once.
let callbacks = 0;
const receiver = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    callbacks++;
    res.writeHead(200).end('{}');
  });
});
await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

const apiProc = run('api/server.ts');
const workerProc = run('workers/index.ts');
for (let i = 0; ; i++) {
  if (
    await fetch(`${base}/readyz`).then(
      (r) => r.ok,
      () => false,
    )
  )
    break;
  if (i > 300 || apiProc.exitCode !== null) throw new Error('the API did not become ready');
  await new Promise((r) => setTimeout(r, 100));
}

// --- setup through the API ---------------------------------------------------------------------
const sent = new Map<string, number>(); // kind → count
const answered = new Map<string, number>(); // status → count
const tally = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

async function api(method: string, path: string, headers: Record<string, string>, body?: unknown) {
  const raw = body === undefined ? '' : JSON.stringify(body);
  const r = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { ...headers, ...(raw ? { 'content-type': 'application/json' } : {}) },
    ...(raw ? { body: raw } : {}),
  });
  return { status: r.status, body: (await r.json().catch(() => ({}))) as { data: any } };
}
const admin = (path: string, body: unknown) => api('POST', path, { 'X-Admin-Key': env.ADMIN_API_KEY! }, body);
const t = await admin('/provision/tenant', { tenant_name: 'soak', callback_url_base: receiverUrl, rate_limit_per_min: 10_000 });
if (t.status !== 201) throw new Error(`provision: ${JSON.stringify(t.body)}`);
const creds = { tenantId: t.body.data.tenant_id as string, secret: t.body.data.tenant_secret as string };
const signed = (method: string, path: string, body?: unknown) =>
  api(method, path, signedHeaders(creds.tenantId, creds.secret, body === undefined ? '' : JSON.stringify(body)), body);

const userHash = `soak_${randomBytes(6).toString('hex')}`;
const proof = await signed('POST', '/relay/prepare-pairing', {
  user_socket_hash: userHash,
  backend_user_id: 'soak-user',
  user_email: 'soak@example.com',
  display_name: 'Soak',
});
const device = DeviceClient.create(base);
const paired = await device.pair(proof.body.data.pairing_proof, { deviceName: 'soak device' });
if (paired.status !== 201) throw new Error(`pair: ${JSON.stringify(paired.body)}`);
const visitor = await signed('POST', '/relay/mint/visitor-token', { visitor_user_id: 'soak-visitor', mode: 'human' });
const conversation = await signed('POST', '/relay/create/conversation', { session_id: visitor.body.data.session_id });
const conversationId = (conversation.body.data.conversation.id ?? conversation.body.data.conversation.conversation_id) as string;

// --- the load ----------------------------------------------------------------------------------
let inFlight = 0;
const MAX_IN_FLIGHT = 64;
function every(ms: number, kind: string, task: () => Promise<{ status: number }>): NodeJS.Timeout {
  return setInterval(() => {
    if (stopping || inFlight >= MAX_IN_FLIGHT) return tally(sent, `${kind} (skipped: ${MAX_IN_FLIGHT} in flight)`);
    inFlight++;
    tally(sent, kind);
    task()
      .then((r) => tally(answered, String(r.status)))
      .catch(() => tally(answered, 'network error'))
      .finally(() => inFlight--);
  }, ms / SCALE);
}
let n = 0;
const timers = [
  every(50, 'test-callback', () => signed('POST', '/relay/send/test-callback', { note: `soak ${n++}` })),
  every(200, 'auth-challenge', () =>
    signed('POST', '/relay/send/auth-challenge', {
      user_socket_hash: userHash,
      instruction_id: `soak-${n++}-${randomBytes(3).toString('hex')}`,
      custom_type: 'localAuth',
      expected_action: 'login',
      ttl_seconds: 60,
    }),
  ),
  every(100, 'chat-message', () =>
    signed('POST', '/relay/send/chat-message', { conversation_id: conversationId, sender_type: 'visitor', text: `soak message ${n++}` }),
  ),
  every(1000, 'fetch-devices', () => signed('GET', `/relay/fetch/devices?user_socket_hash=${userHash}`)),
  // The device polls and answers what it finds (deny), so open requests stay few.
  every(1000, 'device-poll+answer', async () => {
    const r = await device.poll();
    const open = (r.body.data?.requests ?? []).filter((q: { answerable: boolean }) => q.answerable).slice(0, 8);
    for (const q of open) await device.answer(q.request_id, 'deny');
    return r;
  }),
];

// --- once a minute ---------------------------------------------------------------------------------
const rssOf = (pid: number | undefined) => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
};
const metric = (text: string, name: string, labels = '') => {
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}${labels ? `{${labels}` : ' '}`) || (labels === '' && l.startsWith(`${name} `)));
  return line ? Number(line.split(' ').pop()) : NaN;
};
const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
type Sample = { minute: number; apiRss: number; workerRss: number; heap: number };
const samples: Sample[] = [];
let lastSent = 0;
let lastCallbacks = 0;
const started = Date.now();

console.log(`soak: ${MINUTES} min of mixed load on ${base} (rate ×${SCALE}); warm-up ${WARMUP} min; one line a minute`);
for (let minute = 1; minute <= MINUTES; minute++) {
  await new Promise((r) => setTimeout(r, started + minute * 60_000 - Date.now()));
  const text = await fetch(`${base}/metrics`, { headers: { 'X-Admin-Key': env.ADMIN_API_KEY! } }).then(
    (r) => r.text(),
    () => '',
  );
  const queues = ['webhook-delivery', 'push', 'chat', 'maintenance']
    .map((q) => {
      const depth = ['waiting', 'active', 'delayed'].reduce(
        (s, st) => s + (metric(text, 'relay_queue_jobs', `queue="${q}",state="${st}"`) || 0),
        0,
      );
      return `${q} ${depth}`;
    })
    .join(', ');
  const s: Sample = {
    minute,
    apiRss: rssOf(apiProc.pid),
    workerRss: rssOf(workerProc.pid),
    heap: metric(text, 'nodejs_heap_size_used_bytes'),
  };
  samples.push(s);
  const total = [...sent.values()].reduce((a, b) => a + b, 0);
  const lag = metric(text, 'nodejs_eventloop_lag_p99_seconds') * 1000;
  console.log(
    `min ${String(minute).padStart(2)}: api rss ${mb(s.apiRss)} heap ${mb(s.heap)} event-loop p99 ${lag.toFixed(1)} ms · worker rss ${mb(s.workerRss)} · queues ${queues} · ${total - lastSent} requests, ${callbacks - lastCallbacks} callbacks received · answers ${[...answered].map(([k, v]) => `${k}: ${v}`).join(' ')}`,
  );
  lastSent = total;
  lastCallbacks = callbacks;
}

// --- the verdict, then clean up -------------------------------------------------------------
stopping = true;
for (const timer of timers) clearInterval(timer);
const ref = samples.find((x) => x.minute === WARMUP) ?? samples[0]!;
const last = samples[samples.length - 1]!;
const growth = (a: number, b: number) => (a > 0 ? (b - a) / a : 0);
const verdicts = [
  ['api rss', growth(ref.apiRss, last.apiRss)],
  ['api heap', growth(ref.heap, last.heap)],
  ['worker rss', growth(ref.workerRss, last.workerRss)],
] as const;
const flat = MINUTES <= WARMUP || verdicts.every(([, g]) => g < 0.15);
console.log(
  `soak: after the warm-up (minute ${ref.minute} → ${last.minute}): ${verdicts.map(([k, g]) => `${k} ${(g * 100).toFixed(1)}%`).join(', ')} → memory ${flat ? 'flat' : 'GROWING'}; ${callbacks} callbacks received in all`,
);
await new Promise((r) => setTimeout(r, 2000));
for (const c of children) c.kill('SIGTERM');
await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
receiver.close();
await mongoose.connect(env.MONGODB_URI!);
await mongoose.connection.dropDatabase().catch(() => undefined);
await mongoose.disconnect();
const redis = new Redis(env.REDIS_URL!);
const keys = await redis.keys(`${env.QUEUE_PREFIX}*`);
for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
await redis.quit();
process.exit(flat && process.exitCode !== 1 ? 0 : 1);
