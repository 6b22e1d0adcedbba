/**
 * The relay's Redis, as the supervisor and test/support/private-redis.ts start it: durable as
 * production must be, tests included. The AOF, fsynced before every answer (appendfsync always:
 * nothing acknowledged is lost when Redis or the machine crashes), is what a restarted Redis comes
 * back from (the chaos tests restart it); noeviction, as BullMQ requires; no RDB snapshots.
 */
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { join } from 'node:path';
import { Fatal, log } from './paths.js';
import { Service, type ServiceSpec } from './service.js';

export const RELAY_REDIS_ARGS = ['--maxmemory-policy', 'noeviction', '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''];

export function redisServerAvailable(): boolean {
  return (
    spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0 &&
    spawnSync('redis-cli', ['--version'], { stdio: 'ignore' }).status === 0
  );
}

/** Installs the Debian package when redis-server is missing (CI images and fresh machines), as root or with passwordless sudo. */
export function ensureRedisInstalled(): void {
  if (redisServerAvailable()) return;
  if (spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status !== 0)
    throw new Fatal('redis-server is not installed and apt-get is unavailable; install Redis or set REDIS_URL');
  let sudo: string[] = [];
  if (process.getuid?.() !== 0) {
    if (spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0) sudo = ['sudo', '-n'];
    else
      throw new Fatal(
        "redis-server is not installed and we are not root (no passwordless sudo): run 'sudo apt-get install redis-server' or set REDIS_URL",
      );
  }
  log('redis-server not found, installing the Debian package');
  const run = (...args: string[]) => {
    const [file, ...rest] = [...sudo, 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', ...args];
    spawnSync(file!, rest, { stdio: ['ignore', process.stderr, process.stderr] });
  };
  run('update', '-qq');
  run('install', '-y', '-qq', 'redis-server');
  if (!redisServerAvailable()) throw new Fatal('redis-server still not found after installing it');
}

/**
 * One command over RESP on a fresh connection; the reply as text (a bulk string's content, or a
 * status/error line with its +/- sign), or null when it does not answer within `timeoutMs`.
 */
export function redisCommand(port: number, args: string[], timeoutMs = 2000): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const done = (reply: string | null) => {
      socket.destroy();
      resolve(reply);
    };
    socket.setTimeout(timeoutMs, () => done(null));
    socket.once('error', () => done(null));
    socket.once('close', () => done(null));
    socket.on('connect', () => socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`));
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const eol = buf.indexOf('\r\n');
      if (eol < 0) return;
      const head = buf.subarray(0, eol).toString();
      if (head[0] !== '$') return done(head);
      const len = Number(head.slice(1));
      if (len < 0) return done('');
      if (buf.length >= eol + 2 + len) done(buf.subarray(eol + 2, eol + 2 + len).toString());
    });
  });
}

/** PONG, not -LOADING (still replaying its AOF) nor silence. */
export const redisReady = async (port: number) => (await redisCommand(port, ['PING'])) === '+PONG';

/** The PONG came from our process: INFO server names its process_id. */
export const redisIsOurs = async (port: number, pid: number) =>
  (await redisCommand(port, ['INFO', 'server']))?.split('\r\n').includes(`process_id:${pid}`) ?? false;

/** A Redis serving from `dir` (its log, pidfile and AOF there) with the relay's settings, plus `extraArgs`. */
export function redisSpec(dir: string, timeoutMs: number, opts: { ownSession?: boolean; extraArgs?: string[] } = {}): ServiceSpec {
  const logFile = join(dir, 'redis.log');
  return {
    name: 'redis',
    logFile,
    timeoutMs,
    ownSession: opts.ownSession ?? true,
    ready: redisReady,
    ours: redisIsOurs,
    command: (port) => ({
      file: 'redis-server',
      args: [
        '--bind',
        '127.0.0.1',
        '--port',
        String(port),
        '--daemonize',
        'no',
        '--dir',
        dir,
        '--logfile',
        logFile,
        '--pidfile',
        join(dir, 'redis.pid'),
        ...RELAY_REDIS_ARGS,
        ...(opts.extraArgs ?? []),
      ],
    }),
  };
}

export function redisService(dir: string, timeoutMs: number, hooks?: ConstructorParameters<typeof Service>[1]): Service {
  return new Service(redisSpec(dir, timeoutMs), hooks);
}
