/**
 * Runs the relay for a test, for real: the Koa app on a real port and the BullMQ workers, either in
 * this process (fast, the default) or as separate child processes (for two-API-process and SIGKILL
 * tests). Nothing of ours is stubbed; everything talks to the real Redis and FerretDB.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mongoose from 'mongoose';
import { buildApp } from '../../api/app.js';
import { createHttpServer } from '../../api/http-server.js';
import { TenantStore } from '../../models/platform/tenant-store.js';
import { createOutboundHttp } from '../../platform/outbound-http.js';
import type { Config } from '../../platform/config.js';
import { connectMongo } from '../../platform/mongo.js';
import { apiRedis, waitReady, workerRedis } from '../../platform/redis.js';
import { Producer } from '../../queues/producer.js';
import { createProcessors } from '../../workers/processors.js';
import { startWorkers, type WorkerFleet } from '../../workers/runtime.js';
import { testConfig, testEnv } from './env.js';
import { auditChildOutput, auditLogger, countChild } from './log-audit.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export type Relay = {
  config: Config;
  env: Record<string, string>;
  baseUrl: string;
  producer: Producer;
  startWorker: () => Promise<WorkerFleet>;
  stop: () => Promise<void>;
};

/** The API in this process, on a random port; workers on demand. */
export async function startRelay(
  name: string,
  extraEnv: Record<string, string> = {},
  opts: { logStream?: NodeJS.WritableStream } = {},
): Promise<Relay> {
  const env = testEnv(name, extraEnv);
  const config = testConfig(env);
  // Every line goes to the run's audited log (test/support/log-audit.ts); a test that reads the log
  // also gets every line at info level in its own stream.
  const logger = auditLogger('test', opts.logStream);
  if (mongoose.connection.readyState !== 1) await connectMongo(config.mongodbUri);
  else if (mongoose.connection.name !== new URL(config.mongodbUri).pathname.slice(1)) {
    await mongoose.disconnect();
    await connectMongo(config.mongodbUri);
  }
  const redis = apiRedis(config.redisUrl);
  // A test may take Redis down on purpose: requests then answer 503; the outage itself is no news here.
  redis.on('error', () => undefined);
  await waitReady(redis);
  const producer = new Producer(config, redis);
  for (const q of producer.queues.values()) q.on('error', () => undefined);
  const tenants = new TenantStore(redis, config.secretsMasterKey, config.queuePrefix);
  const app = buildApp({ config, logger, redis, producer, tenants });
  const server = createHttpServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // The relay's public URL (console invitation links) is where it listens, unless the test names one.
  if (!extraEnv.PUBLIC_BASE_URL) config.publicBaseUrl = baseUrl;
  const fleets: WorkerFleet[] = [];
  const extras: { close: () => void | Promise<unknown> }[] = [];

  return {
    config,
    env,
    baseUrl,
    producer,
    startWorker: async () => {
      const wredis = workerRedis(config.redisUrl);
      const whttp = createOutboundHttp({ timeoutMs: config.callbackTimeoutMs, allowPrivateNetworks: config.callbackAllowPrivateNetworks });
      const wtenants = new TenantStore(wredis, config.secretsMasterKey, config.queuePrefix);
      const fleet = await startWorkers(
        config,
        logger,
        createProcessors({ config, logger, redis: wredis, tenants: wtenants, http: whttp, producer }),
      );
      fleets.push(fleet);
      extras.push({ close: () => whttp.close() }, { close: () => wredis.quit() });
      return fleet;
    },
    stop: async () => {
      await Promise.all(fleets.map((f) => f.close()));
      for (const e of extras) await e.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      // Drop this run's queues and keys, then its database. (A test's own Redis may be gone, or a
      // cluster whose keys one DEL cannot span: the cleanup after it still runs.)
      const keys = await redis.keys(`${config.queuePrefix}*`).catch(() => [] as string[]);
      for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500)).catch(() => undefined);
      await producer.close();
      await redis.quit();
      await mongoose.connection.dropDatabase().catch(() => undefined);
    },
  };
}

export type Child = { proc: ChildProcess; url: string; output: () => string; kill: (signal?: NodeJS.Signals) => Promise<void> };

async function freePort(): Promise<number> {
  const srv = http.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/**
 * How an entry point of the relay is started: from the transpiled copy that scripts/test.sh makes
 * (RELAY_BUILD_DIR, scripts/transpile.ts: half the CPU of a start, which a full run pays ~100 times),
 * else through tsx, as a test run by hand does.
 */
function entryArgs(entry: string): string[] {
  const built = process.env.RELAY_BUILD_DIR ? join(process.env.RELAY_BUILD_DIR, entry.replace(/\.ts$/, '.js')) : null;
  return built && existsSync(built) ? ['--enable-source-maps', built] : ['--import', 'tsx', entry];
}

function spawnTs(entry: string, env: Record<string, string>): { proc: ChildProcess; output: () => string } {
  const proc = spawn(process.execPath, entryArgs(entry), {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  countChild();
  // The whole output also goes to the run's audited log (no secret may appear in it).
  proc.stdout?.on('data', (d: Buffer) => ((out = (out + d.toString()).slice(-20_000)), auditChildOutput(d)));
  proc.stderr?.on('data', (d: Buffer) => ((out = (out + d.toString()).slice(-20_000)), auditChildOutput(d)));
  return { proc, output: () => out };
}

function killer(proc: ChildProcess) {
  return async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill(signal);
    await exited;
  };
}

/**
 * Whether process `pid` holds the listening socket of 127.0.0.1:`port` (Linux: the socket's inode in
 * /proc/net/tcp among the process's open files). freePort's port is free only when it is probed: in
 * the gap before the spawned API binds it, another lane's process may take it, and that process's
 * /readyz would then pass for ours (seen in a full run: a test talked to another lane's relay).
 */
function holdsPort(pid: number, port: number): boolean {
  if (!existsSync('/proc/net/tcp')) return true; // not Linux: no way to tell, trust the answer
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let table: string;
    try {
      table = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of table.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address ends in the port; state 0A is LISTEN; field 9 is the inode.
      if (f[1]?.endsWith(hex) && f[3] === '0A' && f[9]) inodes.add(f[9]);
    }
  }
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return inodes.has(/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1] ?? '');
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

/** A separate `web` process (api/server.ts) sharing the given environment; resolves once /readyz (or /healthz) answers. */
export async function spawnApi(
  env: Record<string, string>,
  opts: { waitFor?: '/readyz' | '/healthz'; port?: number } = {},
): Promise<Child> {
  // A port taken by another process between freePort's probe and our bind: try another one.
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnApiOn(env, opts, opts.port ?? (await freePort()));
    } catch (err) {
      if (opts.port !== undefined || attempt >= 3 || !(err instanceof PortTaken)) throw err;
    }
  }
}

class PortTaken extends Error {}

async function spawnApiOn(env: Record<string, string>, opts: { waitFor?: '/readyz' | '/healthz' }, port: number): Promise<Child> {
  // A fixed port lets a test take a process down and bring it back where its clients reconnect.
  const { proc, output } = spawnTs('api/server.ts', { ...env, PORT: String(port) });
  const url = `http://127.0.0.1:${port}`;
  // Generous: on a loaded machine tsx alone can take well over 15 s to load the API.
  for (let i = 0; i < 600; i++) {
    if (proc.exitCode !== null) {
      if (output().includes('EADDRINUSE')) throw new PortTaken(`port ${port} was taken: ${output()}`);
      throw new Error(`api process exited: ${output()}`);
    }
    const ok = await fetch(`${url}${opts.waitFor ?? '/readyz'}`).then(
      (r) => r.ok,
      () => false,
    );
    // Ready only when the answer came from our process, not from whoever else listens there.
    if (ok && proc.pid !== undefined && holdsPort(proc.pid, port)) return { proc, url, output, kill: killer(proc) };
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill('SIGKILL');
  throw new Error(`api process did not become ready: ${output()}`);
}

/** A separate `worker` process (workers/index.ts); resolves once it logs that its workers started. */
export async function spawnWorker(env: Record<string, string>): Promise<Child> {
  const { proc, output } = spawnTs('workers/index.ts', { ...env, LOG_LEVEL: 'info' });
  // As generous as spawnApi's wait: a worker loads as much code as the API does.
  for (let i = 0; i < 600; i++) {
    if (proc.exitCode !== null) throw new Error(`worker process exited: ${output()}`);
    if (output().includes('workers started')) return { proc, url: '', output, kill: killer(proc) };
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill('SIGKILL');
  throw new Error(`worker process did not start: ${output()}`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a truthy value or the time runs out. */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, ms = 10_000, every = 50): Promise<T> {
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
  throw new Error(`condition not met within ${ms} ms${last ? `: ${String(last)}` : ''}`);
}
