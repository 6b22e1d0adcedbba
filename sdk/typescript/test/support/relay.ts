/**
 * The live relay for the SDK's tests, for real: its API and worker as child processes (node
 * --import tsx, as `npm start` runs them) on a free port, against the Redis and FerretDB that
 * scripts/with-services.sh started, with a fresh database and queue prefix per run; tenants through
 * the admin API; the reference device (scripts/device.ts's DeviceClient). The SDK under test talks
 * to it over HTTP only. Started once per run (the first test file that asks), stopped after the run.
 *
 * BLOONIO_TEST_RELAY_ROOT runs the tests against another checkout of the relay.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

const SDK = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const RELAY_ROOT = resolve(process.env.BLOONIO_TEST_RELAY_ROOT || join(SDK, '../..'));
export const ADMIN_KEY = 'test-admin-key-0123456789abcdef-ts';

export type Json = any;

export interface Tenant {
  tenantId: string;
  tenantSecret: string;
  widgetPublicKey: string;
}

export interface Relay {
  url: string;
  runId: string;
  redisUrl: string;
  mongodbUri: string;
  openapi: Json;
  admin(method: 'GET' | 'POST', path: string, body?: unknown, query?: Record<string, string | number>): Promise<Json>;
  provision(name: string, settings?: Record<string, unknown>): Promise<Tenant>;
  deliveries(tenantId: string, query?: Record<string, string>): Promise<Json[]>;
}

export async function freePort(): Promise<number> {
  const srv = http.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a truthy value; fails naming `what`. */
export async function eventually<T>(
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  what: string,
  ms = 15_000,
  every = 100,
): Promise<T> {
  const until = Date.now() + ms;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await sleep(every);
  }
  throw new Error(`${what}: not met within ${ms} ms${last ? ` (${String(last)})` : ''}`);
}

interface Proc {
  name: string;
  proc: ChildProcess;
  output: () => string;
}

const started: Proc[] = [];

/** A relay entry point's node arguments: its transpiled copy when scripts/test.sh made one (RELAY_BUILD_DIR), else through tsx. */
function entryArgs(entry: string): string[] {
  // A copy of this checkout only: a run against another checkout (BLOONIO_TEST_RELAY_ROOT) starts that one's sources.
  const built =
    process.env.RELAY_BUILD_DIR && !process.env.BLOONIO_TEST_RELAY_ROOT
      ? join(process.env.RELAY_BUILD_DIR, entry.replace(/\.ts$/, '.js'))
      : null;
  return built && existsSync(built) ? ['--enable-source-maps', built] : ['--import', 'tsx', entry];
}

function spawnTs(name: string, entry: string, env: Record<string, string>): Proc {
  const proc = spawn(process.execPath, entryArgs(entry), {
    cwd: RELAY_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-20_000));
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const p = { name, proc, output: () => out };
  started.push(p);
  return p;
}

async function stopProc(p: Proc): Promise<void> {
  if (p.proc.exitCode !== null || p.proc.signalCode !== null) return;
  const exited = new Promise((r) => p.proc.once('exit', r));
  p.proc.kill('SIGTERM');
  const timer = setTimeout(() => p.proc.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

// A run that ends without the root hook (a crash, a second Ctrl-C) still stops what it started, by pid.
process.once('exit', () => {
  for (const p of started) if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL');
});

let relayPromise: Promise<Relay> | null = null;
let cleanup: (() => Promise<void>) | null = null;

/** The relay of this run (started on first use). */
export function relay(): Promise<Relay> {
  relayPromise ??= startRelay();
  return relayPromise;
}

async function startRelay(): Promise<Relay> {
  const redisUrl = process.env.REDIS_URL;
  const mongo = process.env.MONGODB_URI;
  if (!redisUrl || !mongo) {
    throw new Error(
      'REDIS_URL and MONGODB_URI must be set: run through `npm test` or `bash scripts/with-services.sh bash scripts/test-typescript.sh`',
    );
  }
  const runId = `tssdk_${randomBytes(3).toString('hex')}`;
  const db = new URL(mongo);
  db.pathname = `/t_${runId}`;
  const port = await freePort();
  const env: Record<string, string> = {
    REDIS_URL: redisUrl,
    MONGODB_URI: db.toString(),
    ADMIN_API_KEY: ADMIN_KEY,
    SECRETS_MASTER_KEY: `test:${randomBytes(32).toString('hex')}`,
    CALLBACK_ALLOW_PRIVATE_NETWORKS: 'true',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    QUEUE_PREFIX: `t:${runId}`,
    CALLBACK_RETRY_SCHEDULE: '0,300ms,300ms',
    CALLBACK_TIMEOUT_MS: '3000',
    JOB_LOCK_MS: '3000',
    WORKER_SHUTDOWN_TIMEOUT_MS: '3000',
    PUSH_FATIGUE_MAX: '50',
    PORT: String(port),
  };
  const url = `http://127.0.0.1:${port}`;
  const api = spawnTs('relay-api', 'api/server.ts', env);
  const worker = spawnTs('relay-worker', 'workers/index.ts', { ...env, LOG_LEVEL: 'info' });
  cleanup = async () => {
    await Promise.all([stopProc(api), stopProc(worker)]);
    await dropRunData(runId, redisUrl, db.toString());
  };
  await eventually(
    async () => {
      if (api.proc.exitCode !== null) throw new Error(`relay api exited: ${api.output()}`);
      return (await fetch(`${url}/readyz`).catch(() => null))?.ok;
    },
    'the relay API answers /readyz',
    60_000,
    150,
  ).catch((e: Error) => {
    throw new Error(`${e.message}\n${api.output()}`);
  });
  await eventually(() => worker.output().includes('workers started'), 'the relay worker starts', 60_000, 150).catch((e: Error) => {
    throw new Error(`${e.message}\n${worker.output()}`);
  });
  const openapi: Json = await (await fetch(`${url}/api/v1/openapi.json`)).json();

  const admin: Relay['admin'] = async (method, path, body, query) => {
    const qs = query ? `?${new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]))}` : '';
    const r = await fetch(`${url}/api/v1${path}${qs}`, {
      method,
      headers: { 'X-Admin-Key': ADMIN_KEY, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json: Json = await r.json();
    if (r.status >= 300) throw new Error(`admin ${path}: ${r.status} ${JSON.stringify(json)}`);
    return json.data;
  };
  return {
    url,
    runId,
    redisUrl,
    mongodbUri: db.toString(),
    openapi,
    admin,
    async provision(name, settings = {}) {
      const d = await admin('POST', '/provision/tenant', { tenant_name: `${name}-${randomBytes(3).toString('hex')}`, ...settings });
      return { tenantId: d.tenant_id, tenantSecret: d.tenant_secret, widgetPublicKey: d.widget_public_key };
    },
    async deliveries(tenantId, query = {}) {
      return (await admin('GET', '/fetch/deliveries', undefined, { tenant_id: tenantId, limit: 200, ...query })).deliveries;
    },
  };
}

/** Drops this run's database and Redis keys (the SDK's state prefixes start with the run id). */
async function dropRunData(runId: string, redisUrl: string, mongodbUri: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const r = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    for (const pattern of [`t:${runId}*`, `${runId}*`]) {
      let cursor = '0';
      do {
        const [next, keys] = await r.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
        cursor = next;
        if (keys.length) await r.del(...keys);
      } while (cursor !== '0');
    }
  } finally {
    r.disconnect();
  }
  const { default: mongoose } = await import('mongoose');
  const conn = await mongoose.createConnection(mongodbUri, { serverSelectionTimeoutMS: 3000 }).asPromise();
  try {
    await conn.dropDatabase();
  } finally {
    await conn.close();
  }
}

// Root hook (this module is imported by every test file): stop the relay.
after(async function () {
  this.timeout(60_000);
  if (cleanup) await cleanup();
});

// ----- the reference device -----

interface RelayReply {
  status: number;
  body: Json;
}
interface DeviceClientLike {
  state: { deviceId?: string };
  pair(proof: string, o?: { deviceName?: string }): Promise<RelayReply>;
  poll(): Promise<RelayReply>;
  answer(requestId: string, decision: 'approve' | 'deny', answer?: string | null): Promise<RelayReply>;
  answerOpen(shown: Json, decision: 'approve' | 'deny', answer?: string | null): Promise<RelayReply>;
  save(file: string): void;
}

let DeviceClient: { create(relay: string): DeviceClientLike } | null = null;

/** The relay's reference device (scripts/device.ts), as a phone app would speak to the relay. */
export class Device {
  private constructor(
    readonly client: DeviceClientLike,
    readonly url: string,
  ) {}

  static async create(url: string): Promise<Device> {
    DeviceClient ??= ((await import(pathToFileURL(join(RELAY_ROOT, 'scripts/device.ts')).href)) as { DeviceClient: typeof DeviceClient })
      .DeviceClient;
    return new Device(DeviceClient!.create(url), url);
  }

  async pair(proof: string, name = 'Test phone'): Promise<Json> {
    const r = await this.client.pair(proof, { deviceName: name });
    if (r.status !== 201) throw new Error(`pairing failed: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.data;
  }

  async requests(): Promise<Json[]> {
    const r = await this.client.poll();
    if (r.status !== 200) throw new Error(`poll failed: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.data.requests;
  }

  /** The open request of one instruction, once the device sees it. */
  requestFor(instructionId: string, ms = 15_000): Promise<Json> {
    return eventually(
      async () => (await this.requests()).find((r) => r.instruction_id === instructionId),
      `the device sees ${instructionId}`,
      ms,
      200,
    );
  }

  /**
   * Answers a request as the device's `approve <id>` / `deny <id>` does: the open request as this
   * device sees it, a sudo request signed (V2) over the hash of what it shows; a request it no
   * longer sees (e.g. expired) is answered by id, for the relay to refuse.
   */
  async answer(requestId: string, decision: 'approve' | 'deny', answer?: string | null): Promise<RelayReply> {
    const shown = (await this.requests()).find((q) => q.request_id === requestId);
    return shown ? this.client.answerOpen(shown, decision, answer ?? null) : this.client.answer(requestId, decision, answer ?? null);
  }

  approve(requestId: string, answer?: string): Promise<RelayReply> {
    return this.answer(requestId, 'approve', answer);
  }

  deny(requestId: string): Promise<RelayReply> {
    return this.answer(requestId, 'deny');
  }

  /** docs/contract.md §2.3: the reference device's `scan <qr_code_str> --approve|--deny` (its command line, as a user would run it). */
  async scan(qrCodeStr: string, approve = true): Promise<Json> {
    const dir = mkdtempSync(join(tmpdir(), 'tssdk-device-'));
    const state = join(dir, 'device.json');
    this.client.save(state);
    try {
      const args = [
        ...entryArgs('scripts/device.ts'),
        'scan',
        qrCodeStr,
        '--state',
        state,
        '--relay',
        this.url,
        approve ? '--approve' : '--deny',
      ];
      const { stdout } = await run(process.execPath, args, { cwd: RELAY_ROOT });
      return stdout.trim() ? JSON.parse(stdout) : {};
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

export const socketHash = () => `usr_${randomBytes(12).toString('hex')}`;

/** Pairs a fresh reference device for a new user of the tenant. */
export async function pairUser(r: Relay, t: Tenant, name = 'Test phone'): Promise<{ user: string; device: Device; paired: Json }> {
  const { RelayClient } = await import('../../src/index.js');
  const client = new RelayClient({ baseUrl: r.url, tenantId: t.tenantId, tenantSecret: t.tenantSecret });
  const user = socketHash();
  const { pairingProof } = await client.preparePairing({
    userSocketHash: user,
    backendUserId: `u-${user.slice(-6)}`,
    userEmail: `${user}@example.com`,
    displayName: 'Example',
  });
  const device = await Device.create(r.url);
  return { user, device, paired: await device.pair(pairingProof, name) };
}
