/**
 * Shared plumbing of the benchmark scenarios (scripts/bench/<area>.ts): a bench-specific environment (own
 * database and queue prefix), child processes that are always stopped, tenants through the admin
 * API, figures as a table, and the clean-up of what a run wrote to Redis and MongoDB.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import mongoose from 'mongoose';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const ADMIN_KEY = `bench-admin-key-${randomBytes(12).toString('hex')}`;
const MASTER_KEY = `bench:${randomBytes(32).toString('hex')}`;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The relay environment for one bench: REDIS_URL / MONGODB_URI from scripts/with-services.sh. */
export function benchEnv(name: string, extra: Record<string, string> = {}): Record<string, string> {
  const redis = process.env.REDIS_URL;
  const mongo = process.env.MONGODB_URI;
  if (!redis || !mongo) throw new Error('REDIS_URL and MONGODB_URI must be set: run under `bash scripts/with-services.sh`');
  const suffix = `${name}_${randomBytes(3).toString('hex')}`;
  const uri = new URL(mongo);
  uri.pathname = `/bench_${suffix}`;
  return {
    REDIS_URL: redis,
    MONGODB_URI: uri.toString(),
    ADMIN_API_KEY: ADMIN_KEY,
    SECRETS_MASTER_KEY: MASTER_KEY,
    CALLBACK_ALLOW_PRIVATE_NETWORKS: 'true',
    LOG_LEVEL: 'warn',
    QUEUE_PREFIX: `bench:${suffix}`,
    ...extra,
  };
}

// ---------------------------------------------------------------------------------------------
// Child processes: every one we start is recorded and killed on exit, whatever happens.
// ---------------------------------------------------------------------------------------------
export type Proc = { proc: ChildProcess; output: () => string; stop: () => Promise<void> };
const children = new Set<ChildProcess>();

process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    process.stderr.write(`bench: ${sig}, stopping the processes it started\n`);
    process.exit(130);
  });
}

/** Node flags that make a relay process write a V8 CPU profile into BENCH_CPU_PROF when it stops; none when unset. */
export function cpuProfArgs(): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  return dir ? ['--cpu-prof', '--cpu-prof-dir', dir] : [];
}

/** Starts `node --import tsx <entry>` (path relative to the project root). */
export function startTs(entry: string, env: Record<string, string>, args: string[] = [], nodeArgs: string[] = []): Proc {
  const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', entry, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-50_000)));
  proc.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-50_000)));
  return { proc, output: () => out, stop: () => stopProc(proc) };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
export async function stopProc(proc: ChildProcess, graceMs = 8000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Waits until `pattern` appears in the process output (or the process dies / time runs out). */
export async function waitForOutput(p: Proc, pattern: RegExp, what: string, ms = 20_000): Promise<RegExpMatchArray> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const m = p.output().match(pattern);
    if (m) return m;
    if (p.proc.exitCode !== null) throw new Error(`${what} exited: ${p.output().slice(-3000)}`);
    await sleep(20);
  }
  await p.stop();
  throw new Error(`${what} did not start within ${ms} ms: ${p.output().slice(-3000)}`);
}

/** A helper server from scripts/bench/ that prints `{"listening":PORT}` once it listens. */
export async function startHelper(
  entry: string,
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
): Promise<Proc & { url: string }> {
  const p = startTs(entry, env, [], nodeArgs);
  const m = await waitForOutput(p, /\{"listening":(\d+)\}/, entry);
  return { ...p, url: `http://127.0.0.1:${m[1]}` };
}

/** The `web` process (api/server.ts) on a free port; resolves once /readyz answers 200. */
export async function startApi(env: Record<string, string>, nodeArgs: string[] = []): Promise<Proc & { url: string }> {
  const port = await freePort();
  const p = startTs('api/server.ts', { ...env, PORT: String(port) }, [], nodeArgs);
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    if (p.proc.exitCode !== null) throw new Error(`api process exited: ${p.output().slice(-3000)}`);
    if (
      await fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { ...p, url };
    await sleep(100);
  }
  await p.stop();
  throw new Error(`api process not ready: ${p.output().slice(-3000)}`);
}

/** The `worker` process (workers/index.ts); resolves once it logs "workers started" (LOG_LEVEL=info for that line). */
export async function startWorker(env: Record<string, string>, nodeArgs: string[] = []): Promise<Proc & { readyAt: number }> {
  const p = startTs('workers/index.ts', { ...env, LOG_LEVEL: 'info' }, [], nodeArgs);
  await waitForOutput(p, /workers started/, 'worker process', 30_000);
  return { ...p, readyAt: Date.now() };
}

async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Tenants through the admin API
// ---------------------------------------------------------------------------------------------
export type Tenant = { tenantId: string; secret: string };

export async function provisionTenants(apiUrl: string, n: number, settings: Record<string, unknown>, parallel = 10): Promise<Tenant[]> {
  const out: Tenant[] = [];
  for (let i = 0; i < n; i += parallel) {
    const batch = Array.from({ length: Math.min(parallel, n - i) }, (_, j) => i + j);
    out.push(
      ...(await Promise.all(
        batch.map(async (k) => {
          const r = await fetch(`${apiUrl}/api/v1/provision/tenant`, {
            method: 'POST',
            headers: { 'X-Admin-Key': ADMIN_KEY, 'Content-Type': 'application/json' },
            body: JSON.stringify({ tenant_name: `bench-${k}-${randomBytes(3).toString('hex')}`, ...settings }),
          });
          const body = (await r.json()) as { data?: { tenant_id: string; tenant_secret: string } };
          if (r.status !== 201 || !body.data) throw new Error(`provision failed: ${r.status} ${JSON.stringify(body)}`);
          return { tenantId: body.data.tenant_id, secret: body.data.tenant_secret };
        }),
      )),
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Clean-up and output
// ---------------------------------------------------------------------------------------------
/** Deletes the bench's queue keys and drops its database (safe on a shared Redis/MongoDB). */
export async function cleanUp(env: Record<string, string>, extraPrefixes: string[] = []): Promise<void> {
  const redis = new Redis(env.REDIS_URL!, { maxRetriesPerRequest: 1 });
  try {
    for (const prefix of [env.QUEUE_PREFIX!, ...extraPrefixes]) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await redis.del(...keys);
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
  const conn = await mongoose.createConnection(env.MONGODB_URI!, { serverSelectionTimeoutMS: 5000 }).asPromise();
  try {
    await conn.dropDatabase();
  } finally {
    await conn.close();
  }
}

export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

/** Machine facts printed with every result, so figures can be compared across runs. */
export async function machine(): Promise<Record<string, unknown>> {
  const os = await import('node:os');
  return {
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model ?? '?',
    node: process.version,
    load1: Number(os.loadavg()[0]?.toFixed(2)),
  };
}

// ---------------------------------------------------------------------------------------------
// Figures for `npm run bench` (scripts/bench/index.ts collects them into one table)
// ---------------------------------------------------------------------------------------------
export type Figure = {
  /** What is measured, e.g. "signed enqueue req/s". */
  figure: string;
  value: number;
  unit: string;
  /** The same-run baseline it is compared with (bare Koa, a no-op BullMQ worker, a bare ws echo), if any. */
  baseline?: { name: string; value: number };
  /** The target, in words ("≥ 0.35× baseline", "≤ 15 ms"), and whether this run met it. */
  target: string;
  /** Null for a figure shown for the record, with no target of its own. */
  met: boolean | null;
};

/** Prints the figures as one machine-readable line (after the bench's own table). */
export function reportFigures(bench: string, figures: Figure[]): void {
  console.log(`BENCH_FIGURES ${JSON.stringify({ bench, figures })}`);
}

/** Percentile of a list of numbers (nearest rank). */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}
