/**
 * A Redis of the test's own, for the tests that crash, restart or cluster it (the shared Redis of
 * scripts/with-services.sh serves every other test file and must stay up). Started by the same code
 * (scripts/services/) and settings as the relay's Redis — AOF with appendfsync always, noeviction, no RDB — on
 * a port probed below the kernel's ephemeral range (an outgoing connection cannot take it while the
 * server is down for a restart), with its data under the git-ignored .data/.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { portFree } from '../../scripts/services/ports.js';
import { RELAY_REDIS_ARGS, redisServerAvailable, redisSpec } from '../../scripts/services/redis.js';
import { Service } from '../../scripts/services/service.js';
import { sleep } from './harness.js';

export { RELAY_REDIS_ARGS, redisServerAvailable };

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Above the supervisor's 6390–6589 (scripts/services/ports.ts), below the ephemeral range. */
const PORT_BASE = 6600;
const PORT_SPAN = 400;

// Each test process starts in a block of 40 of its own: a Redis one lane restarts is down a moment,
// and another lane probing the same ports then would take its port.
let nextPort = PORT_BASE + (process.pid % 10) * 40;
/** A port nobody listens on (probed upward; one test process hands each out once). */
export async function freeLowPort(): Promise<number> {
  for (let i = 0; i < PORT_SPAN; i++) {
    const port = PORT_BASE + ((nextPort++ - PORT_BASE) % PORT_SPAN);
    if (await portFree(port)) return port;
  }
  throw new Error(`no free port in ${PORT_BASE}..${PORT_BASE + PORT_SPAN - 1}`);
}

export function redisCli(port: number, ...args: string[]): string {
  const r = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8', timeout: 30_000 });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
}

export type PrivateRedis = {
  port: number;
  url: string;
  dir: string;
  pid: () => number;
  /** SIGKILL: a crash; the next start replays the AOF as it was on disk. */
  crash: () => Promise<void>;
  /** SHUTDOWN NOSAVE: a clean stop (Redis flushes and fsyncs its AOF first; NOSAVE only skips the RDB). */
  shutdown: () => Promise<void>;
  /** Starts it again on the same port and data directory; resolves once it answers PING (AOF loaded). */
  start: () => Promise<void>;
  log: () => string;
  /** Stops it and deletes its data. */
  destroy: () => Promise<void>;
};

/**
 * The supervisor's Service (scripts/services/service.ts) with the relay's Redis settings plus
 * `extraArgs`; a child of this test process (not in a session of its own: a Ctrl-C to mocha ends it).
 */
export async function startPrivateRedis(name: string, extraArgs: string[] = []): Promise<PrivateRedis> {
  const port = await freeLowPort();
  const dir = join(ROOT, '.data', 'redis', `${name}-${process.pid}-${port}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const redis = new Service(redisSpec(dir, 30_000, { ownSession: false, extraArgs }));
  const start = async () => {
    const result = await redis.startAt(port);
    if (result === 'exited') throw new Error(`redis-server on ${port} exited: ${redis.log().slice(-2000)}`);
    if (result !== 'ready') throw new Error(`redis-server on ${port} did not answer PING (${result})`);
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    pid: () => redis.pid,
    crash: () => redis.crash(),
    shutdown: async () => {
      redisCli(port, 'shutdown', 'nosave');
      await redis.exited();
    },
    start,
    log: () => redis.log(),
    destroy: async () => {
      await redis.crash();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type PrivateCluster = { nodes: PrivateRedis[]; url: string; destroy: () => Promise<void> };

/**
 * A local Redis Cluster: `size` masters (`redis-server --cluster-enabled yes`, each with the relay's
 * persistence settings), joined by `redis-cli --cluster create … --cluster-replicas 0`, sharing the
 * 16384 slots. Resolves once every node reports cluster_state:ok. Its REDIS_URL is
 * redis+cluster://host:port,… (platform/redis-url.ts).
 */
export async function startPrivateCluster(name: string, size = 3): Promise<PrivateCluster> {
  const nodes: PrivateRedis[] = [];
  const destroy = async () => {
    await Promise.all(nodes.map((n) => n.destroy()));
  };
  try {
    for (let i = 0; i < size; i++)
      nodes.push(
        await startPrivateRedis(`${name}-n${i}`, [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-node-timeout',
          '5000',
        ]),
      );
    const addrs = nodes.map((n) => `127.0.0.1:${n.port}`);
    const created = spawnSync('redis-cli', ['--cluster', 'create', ...addrs, '--cluster-replicas', '0', '--cluster-yes'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    for (let i = 0; ; i++) {
      if (nodes.every((n) => /cluster_state:ok/.test(redisCli(n.port, 'cluster', 'info')))) break;
      if (i > 200) throw new Error(`the cluster did not reach cluster_state:ok: ${redisCli(nodes[0]!.port, 'cluster', 'info')}`);
      await sleep(100);
    }
    return { nodes, url: `redis+cluster://${addrs.join(',')}`, destroy };
  } catch (err) {
    await destroy();
    throw err;
  }
}

export type PrivateSentinel = {
  primary: PrivateRedis;
  replica: PrivateRedis;
  sentinelPort: number;
  name: string;
  url: string;
  /** The port Sentinel names as the primary now. */
  primaryPort: () => number;
  destroy: () => Promise<void>;
};

/**
 * A primary, one replica and one Sentinel watching them (quorum 1), all local; REDIS_URL
 * redis+sentinel://127.0.0.1:<sentinel port>/<name>. `SENTINEL FAILOVER <name>` on the Sentinel
 * promotes the replica.
 */
export async function startPrivateSentinel(name: string): Promise<PrivateSentinel> {
  const primary = await startPrivateRedis(`${name}-primary`);
  const replica = await startPrivateRedis(`${name}-replica`, ['--replicaof', '127.0.0.1', String(primary.port)]);
  const sentinelPort = await freeLowPort();
  const dir = join(ROOT, '.data', 'redis', `${name}-sentinel-${process.pid}-${sentinelPort}`);
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, 'sentinel.conf');
  const master = 'relay-primary';
  writeFileSync(
    conf,
    [
      `port ${sentinelPort}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `logfile ${join(dir, 'sentinel.log')}`,
      `sentinel monitor ${master} 127.0.0.1 ${primary.port} 1`,
      `sentinel down-after-milliseconds ${master} 2000`,
      `sentinel failover-timeout ${master} 10000`,
      '',
    ].join('\n'),
  );
  const proc = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
  const destroy = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
    await Promise.all([primary.destroy(), replica.destroy()]);
  };
  const primaryPort = () => Number(redisCli(sentinelPort, 'sentinel', 'get-master-addr-by-name', master).split('\n')[1] ?? 0);
  try {
    for (let i = 0; ; i++) {
      // Ready once it knows the primary and has discovered the replica.
      if (
        primaryPort() === primary.port &&
        /\bnum-slaves\s+1\b/.test(redisCli(sentinelPort, 'sentinel', 'master', master).replace(/\n/g, ' '))
      )
        break;
      if (i > 300)
        throw new Error(`sentinel did not find the primary and its replica: ${redisCli(sentinelPort, 'sentinel', 'master', master)}`);
      await sleep(100);
    }
  } catch (err) {
    await destroy();
    throw err;
  }
  return {
    primary,
    replica,
    sentinelPort,
    name: master,
    url: `redis+sentinel://127.0.0.1:${sentinelPort}/${master}`,
    primaryPort,
    destroy,
  };
}
