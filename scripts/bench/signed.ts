/**
 * Signed-call throughput (issue 10): the signed route POST /api/v1/relay/send/test-callback (HMAC #1
 * gate: tenant lookup, timestamp window, signature, replay check and rate limit in Redis; then one
 * enqueue, the webhook.deliver job carrying the callback; no MongoDB) against a bare Koa POST route
 * with the same body parser (scripts/bench/bare-server.ts), on the same machine in the same run,
 * alternating bare, signed, bare, signed, ... with wrk at 50 connections.
 *
 *   npm run bench:signed                     (signed.enqueue)
 *   npm run bench -- signed.enqueue signed.start
 *
 * Scenarios: `signed.enqueue`: no worker runs, the delivery jobs pile up in Redis; `signed.start`:
 * `npm start` as a user runs it — one worker process delivers them to the receiver meanwhile,
 * competing for the same CPUs; the callbacks delivered per second during the signed rounds are counted
 * at the receiver, and after the rounds every accepted call must reach it.
 *
 * Knobs (env): BENCH_ROUNDS (3), BENCH_ROUND_SECONDS (10), BENCH_CONNECTIONS (50), BENCH_WRK_THREADS (1),
 * BENCH_TENANTS (60, each rate_limit_per_min 10000), BENCH_WARMUP_SECONDS (3), BENCH_CPU_PROF (a directory: the API process writes a V8 CPU
 * profile there when it stops). The table shows the CPU seconds each process used during each run.
 *
 * Every signed request is unique (a random nonce in the body) and freshly timestamped: the requests of a
 * round are generated and signed just before it into a file that scripts/bench/requests.lua cycles
 * through. A round that ran out of requests (and so replayed some) is reported, never hidden.
 * Needs the Debian package `wrk` (installed here with apt-get when missing and we are root).
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { sign } from '../../platform/signing.js';
import { cpuMeter, servicePids } from './cpu.js';
import { scenario, type Defer } from './scenario.js';
import {
  ROOT,
  benchEnv,
  cleanUp,
  cpuProfArgs,
  fmt,
  machine,
  provisionTenants,
  sleep,
  startApi,
  startHelper,
  startWorker,
  table,
  type Figure,
  type Tenant,
} from './common.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_ROUND_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const THREADS = Number(process.env.BENCH_WRK_THREADS ?? 1);
const TENANTS = Number(process.env.BENCH_TENANTS ?? 60);
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const SIGNED_PATH = '/api/v1/relay/send/test-callback';
const BARE_PATH = '/api/v1/bench/bare';
const LUA = path.join(ROOT, 'scripts/bench/requests.lua');

type WrkResult = {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  socketErrors: number;
  wraps: number;
  loaded: number;
  cpu?: Record<string, number>;
  /** Callbacks the receiver got during the run (with a worker). */
  delivered?: number;
};

function ensureWrk(): void {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return;
  } catch (err) {
    // wrk --version exits 1 after printing its version: only ENOENT means it is missing.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return;
  }
  if (process.getuid?.() !== 0) throw new Error('wrk is not installed: run `sudo apt-get install -y wrk`');
  console.error('bench: wrk not found, installing the Debian package');
  execFileSync('apt-get', ['install', '-y', '-qq', 'wrk'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

const body = () => `{"note":"bench ${randomBytes(8).toString('hex')}"}`;

/** `n` unique signed requests over the tenants, timestamped now. */
function signedLines(tenants: Tenant[], n: number): string {
  const ts = String(Date.now());
  const lines: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const t = tenants[i % tenants.length]!;
    const b = body();
    lines[i] = `${SIGNED_PATH}\t${t.tenantId}\t${ts}\t${sign(t.secret, ts, b)}\t${b}`;
  }
  return lines.join('\n') + '\n';
}

function bareLines(n: number): string {
  return Array.from({ length: n }, () => `${BARE_PATH}\t\t\t\t${body()}`).join('\n') + '\n';
}

const toMs = (v: string, unit: string) => Number(v) * ({ us: 0.001, ms: 1, s: 1000, m: 60_000 } as Record<string, number>)[unit]!;

function parseWrk(out: string): WrkResult {
  const pct = (p: string) => {
    const m = out.match(new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm'));
    return m ? toMs(m[1]!, m[2]!) : NaN;
  };
  const socket = out.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  const done = out.match(/BENCH_DONE loaded=(\d+) wraps=(\d+)/);
  return {
    rps: Number(out.match(/Requests\/sec:\s+([\d.]+)/)?.[1] ?? NaN),
    p50: pct('50'),
    p99: pct('99'),
    requests: Number(out.match(/(\d+) requests in/)?.[1] ?? 0),
    non2xx: Number(out.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0),
    socketErrors: socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    wraps: Number(done?.[2] ?? 0),
    loaded: Number(done?.[1] ?? 0),
  };
}

async function wrk(url: string, file: string, seconds: number): Promise<WrkResult> {
  const args = [`-t${THREADS}`, `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', '--timeout', '5s', '-s', LUA, url, '--', String(THREADS)];
  const out = await new Promise<string>((resolve, reject) => {
    const p = spawn('wrk', args, { env: { ...process.env, BENCH_REQUESTS: file }, stdio: ['ignore', 'pipe', 'pipe'] });
    let s = '';
    p.stdout.on('data', (d: Buffer) => (s += d.toString()));
    p.stderr.on('data', (d: Buffer) => (s += d.toString()));
    const killer = setTimeout(() => p.kill('SIGKILL'), (seconds + 60) * 1000);
    p.on('exit', (code) => {
      clearTimeout(killer);
      if (code === 0) resolve(s);
      else reject(new Error(`wrk exited with ${code}: ${s}`));
    });
  });
  const r = parseWrk(out);
  if (process.env.BENCH_DEBUG) console.error(out);
  if (!Number.isFinite(r.rps)) throw new Error(`could not read wrk's output:\n${out}`);
  return r;
}

type Round = { round: number; bare: WrkResult; signed: WrkResult };

/** The processes and tenants of one signed-call run (with or without a worker delivering). */
async function setup(defer: Defer, WITH_WORKER: boolean) {
  ensureWrk();
  const env = benchEnv('signed');
  defer('clean-up', () => cleanUp(env));
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-signed-'));
  defer('removing the request files', () => rmSync(dir, { recursive: true, force: true }));
  const receiver = await startHelper('scripts/bench/receiver.ts');
  defer('stopping the receiver', () => receiver.stop());
  const bare = await startHelper('scripts/bench/bare-server.ts');
  defer('stopping the bare server', () => bare.stop());
  const api = await startApi(env, [...cpuProfArgs(), ...(process.env.BENCH_API_NODE_ARGS?.split(' ').filter(Boolean) ?? [])]);
  defer('stopping the api', () => api.stop());
  const worker = WITH_WORKER ? await startWorker(env) : null;
  if (worker) defer('stopping the worker', () => worker.stop());
  const tenants = await provisionTenants(api.url, TENANTS, { rate_limit_per_min: 10_000, callback_url_base: `${receiver.url}/ok` });
  console.error(
    `bench: ${TENANTS} tenants provisioned; api ${api.url}, bare ${bare.url}, receiver ${receiver.url}, worker: ${WITH_WORKER ? 'one process' : 'none'}`,
  );
  return { WITH_WORKER, env, dir, receiver, bare, api, worker, tenants };
}

/** Warm-up, then ROUNDS rounds alternating bare and signed, then the cross-check that nothing accepted was lost. */
async function measure(ctx: Awaited<ReturnType<typeof setup>>) {
  const { WITH_WORKER, env, dir, receiver, bare, api, worker, tenants } = ctx;
  const bareFile = path.join(dir, 'bare.tsv');
  writeFileSync(bareFile, bareLines(20_000));
  const signedFile = path.join(dir, 'signed.tsv');
  // The rate of the last signed run sizes the next request file (×1.6 headroom, at least 20,000).
  let signedRate = 8000;
  let acceptedTotal = 0;
  // CPU seconds per process during each run: where the time goes.
  const pids: Record<string, number> = { ...servicePids(env.REDIS_URL!, env.MONGODB_URI!), api: api.proc.pid!, bare: bare.proc.pid! };
  if (worker) pids.worker = worker.proc.pid!;
  const received = async () => ((await (await fetch(`${receiver.url}/stats`)).json()) as { distinct: number }).distinct;
  const runSigned = async (seconds: number) => {
    // Never fewer than 10,000/s worth: a cold warm-up's rate must not size a round into replays.
    const n = Math.min(600_000, Math.ceil(Math.max(signedRate, 10_000) * seconds * 1.6));
    writeFileSync(signedFile, signedLines(tenants, n));
    const before = WITH_WORKER ? await received() : 0;
    const meter = cpuMeter(pids);
    const r = await wrk(api.url, signedFile, seconds);
    r.cpu = meter();
    if (WITH_WORKER) r.delivered = (await received()) - before;
    acceptedTotal += r.requests - r.non2xx;
    signedRate = Math.max(r.rps, 1000);
    return r;
  };
  const runBare = async (seconds: number) => {
    const meter = cpuMeter(pids);
    const r = await wrk(bare.url, bareFile, seconds);
    r.cpu = meter();
    return r;
  };

  // Warm-up (JIT, connection pools, tenant cache), not reported.
  await runBare(WARMUP);
  await runSigned(WARMUP);

  const rounds: Round[] = [];
  for (let i = 1; i <= ROUNDS; i++) {
    const b = await runBare(SECONDS);
    const s = await runSigned(SECONDS);
    rounds.push({ round: i, bare: b, signed: s });
    console.error(`bench: round ${i}: bare ${fmt(b.rps)} req/s, signed ${fmt(s.rps)} req/s`);
  }

  // Cross-check: every 2xx the signed route gave is a queued callback (no worker), or a delivered one.
  let queued = NaN;
  let deliveredAll = NaN;
  if (WITH_WORKER) {
    // Everything accepted (warm-up and rounds) must reach the receiver; give the worker time to drain.
    const until = Date.now() + 300_000;
    while (Date.now() < until && (await received()) < acceptedTotal) await sleep(500);
    deliveredAll = await received();
  } else {
    const conn = new Redis(env.REDIS_URL!, { maxRetriesPerRequest: 1 });
    const q = new Queue('webhook-delivery', { connection: conn, prefix: env.QUEUE_PREFIX! });
    const c = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed');
    queued = Object.values(c).reduce((a, b) => a + b, 0);
    await q.close();
    conn.disconnect();
  }
  return { rounds, acceptedTotal, queued, deliveredAll };
}

/** The table of every run, the summary lines and the figures. */
async function report(r: Awaited<ReturnType<typeof measure>>, ctx: Awaited<ReturnType<typeof setup>>): Promise<Figure[]> {
  const { WITH_WORKER } = ctx;
  const { rounds, acceptedTotal, queued, deliveredAll } = r;
  const accepted = (r: WrkResult) => r.requests - r.non2xx;
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const sum = (k: 'bare' | 'signed') => ({
    rps: mean(rounds.map((r) => r[k].rps)),
    p50: mean(rounds.map((r) => r[k].p50)),
    p99: mean(rounds.map((r) => r[k].p99)),
    p99_worst: Math.max(...rounds.map((r) => r[k].p99)),
    requests: rounds.reduce((a, r) => a + r[k].requests, 0),
    non2xx: rounds.reduce((a, r) => a + r[k].non2xx, 0),
    socket_errors: rounds.reduce((a, r) => a + r[k].socketErrors, 0),
  });
  const bareSum = sum('bare');
  const signedSum = sum('signed');
  const ratio = signedSum.rps / bareSum.rps;
  const wraps = rounds.reduce((a, r) => a + r.signed.wraps, 0);

  const rows: (string | number)[][] = [];
  for (const r of rounds) {
    for (const k of ['bare', 'signed'] as const) {
      const x = r[k];
      const cpu = Object.entries(x.cpu ?? {})
        .map(([name, v]) => `${name} ${v}`)
        .join(', ');
      rows.push([`round ${r.round} ${k}`, fmt(x.rps), fmt(x.p50, 2), fmt(x.p99, 2), x.requests, x.non2xx + x.socketErrors, cpu]);
    }
  }
  rows.push([
    'mean bare',
    fmt(bareSum.rps),
    fmt(bareSum.p50, 2),
    fmt(bareSum.p99, 2),
    bareSum.requests,
    bareSum.non2xx + bareSum.socket_errors,
    '',
  ]);
  rows.push([
    'mean signed',
    fmt(signedSum.rps),
    fmt(signedSum.p50, 2),
    fmt(signedSum.p99, 2),
    signedSum.requests,
    signedSum.non2xx + signedSum.socket_errors,
    '',
  ]);
  const m = await machine();
  const apiCpuMs = (rounds.reduce((a, r) => a + (r.signed.cpu?.api ?? NaN), 0) * 1000) / rounds.reduce((a, r) => a + accepted(r.signed), 0);
  const deliveredPerSec = WITH_WORKER ? rounds.reduce((a, r) => a + (r.signed.delivered ?? 0), 0) / (ROUNDS * SECONDS) : NaN;
  console.log(
    `\nSigned-call throughput: ${ROUNDS} rounds x ${SECONDS} s each, alternating, wrk ${THREADS} thread(s), ${CONNECTIONS} connections, ${TENANTS} tenants; worker: ${WITH_WORKER ? 'one process' : 'none'}; ${m.cpus} CPUs (${m.cpu_model}), node ${m.node}, load ${m.load1}`,
  );
  const headers = [
    'run',
    'req/s',
    'p50 ms',
    'p99 ms',
    'requests',
    'errors',
    ...(WITH_WORKER ? ['delivered/s'] : []),
    'cpu s during the run',
  ];
  if (WITH_WORKER)
    for (const r of rows)
      r.splice(
        6,
        0,
        r[0]!.toString().endsWith('signed') ? fmt((rounds[Number(String(r[0]).split(' ')[1]) - 1]?.signed.delivered ?? NaN) / SECONDS) : '',
      );
  console.log(table(headers, rows));
  // Deliveries are at-least-once and the receiver counts POSTs, so more delivered than accepted
  // (a redelivery, a warm-up straggler) is not a loss; fewer is.
  const lost = Math.max(0, WITH_WORKER ? acceptedTotal - deliveredAll : acceptedTotal - queued);
  console.log(
    `\nsigned/bare ratio: ${fmt(ratio, 3)}  signed p99: ${fmt(signedSum.p99, 2)} ms mean, ${fmt(signedSum.p99_worst, 2)} ms worst round  API CPU per accepted call: ${fmt(apiCpuMs, 3)} ms`,
  );
  console.log(
    WITH_WORKER
      ? `callbacks delivered during the signed rounds: ${fmt(deliveredPerSec)}/s; accepted ${acceptedTotal}, delivered ${deliveredAll} after the drain (lost: ${lost})`
      : `accepted ${acceptedTotal} (warm-up + rounds), jobs in the queue ${queued} (lost: ${lost}); replayed requests (request file ran out): ${wraps}`,
  );
  const base = { name: 'bare Koa POST', value: Number(bareSum.rps.toFixed(0)) };
  const clean = signedSum.non2xx === 0 && wraps === 0 && lost === 0;
  const figures: Figure[] = WITH_WORKER
    ? [
        {
          figure: 'npm start: API req/s with its worker delivering',
          value: Number(signedSum.rps.toFixed(0)),
          unit: 'req/s',
          baseline: base,
          target: '≥ 0.12× bare Koa',
          met: ratio >= 0.12 && clean,
        },
        {
          figure: 'npm start: callbacks delivered/s end to end',
          value: Number(deliveredPerSec.toFixed(0)),
          unit: '/s',
          target: '≥ 1,000/s, nothing lost',
          met: deliveredPerSec >= 1000 && lost === 0,
        },
      ]
    : [
        {
          figure: 'signed enqueue (send/test-callback), 50 conn',
          value: Number(signedSum.rps.toFixed(0)),
          unit: 'req/s',
          baseline: base,
          target: '≥ 0.35× bare Koa',
          met: ratio >= 0.35 && clean,
        },
        {
          figure: 'signed enqueue p99 (worst round)',
          value: Number(signedSum.p99_worst.toFixed(2)),
          unit: 'ms',
          target: '≤ 15 ms',
          met: signedSum.p99_worst <= 15,
        },
        {
          figure: 'API CPU per signed enqueue',
          value: Number(apiCpuMs.toFixed(3)),
          unit: 'ms',
          target: '≤ 0.12 ms',
          met: apiCpuMs <= 0.12,
        },
      ];
  console.log(`targets ${figures.every((f) => f.met) ? 'MET' : 'NOT met'}`);
  return figures;
}

export const scenarios = [
  scenario({
    name: 'signed.enqueue',
    about: 'signed send/test-callback enqueues against a bare Koa POST, no worker (the jobs pile up in Redis)',
    setup: (defer) => setup(defer, false),
    run: measure,
    report,
  }),
  scenario({
    name: 'signed.start',
    about: 'the same signed load as `npm start` runs it: one worker process delivers the callbacks meanwhile',
    setup: (defer) => setup(defer, true),
    run: measure,
    report,
  }),
];
