/**
 * Runs a command with Redis and a MongoDB-compatible server (FerretDB) available: what
 * `bash scripts/with-services.sh <command> [args...]` does (cli.ts). Shared by `npm start`
 * (scripts/start.sh), `npm test` (scripts/test.sh and its lanes), the chaos tests and the benches.
 *
 * Reads:
 *   REDIS_URL               if set, used as is and no Redis is started
 *   MONGODB_URI             if set, used as is and no FerretDB is started
 *   LOCAL_SERVICES_PERSIST  1 = keep data between runs (.data/redis/dev, .data/ferretdb/dev);
 *                           otherwise every run gets fresh data dirs that are deleted afterwards.
 *                           Redis runs with AOF (appendfsync always) and noeviction either way, as production must.
 *   LOCAL_MONGODB_DB        database name in the exported MONGODB_URI (default: bloonio)
 *   LOCAL_SERVICES_TIMEOUT  seconds to wait for each service to accept connections (default: 30)
 *   LOCAL_SERVICES_STOP_TIMEOUT  seconds the command's processes get to stop after SIGTERM before
 *                           SIGKILL (default: 25, above the relay's WORKER_SHUTDOWN_TIMEOUT_MS of 15 s)
 * Exports to the command:
 *   REDIS_URL=redis://127.0.0.1:PORT            (when started here)
 *   MONGODB_URI=mongodb://127.0.0.1:PORT/DB     (when started here)
 *   LOCAL_SERVICES_PID      the supervisor's pid, for ctl.ts (restart a service in place, same port
 *                           and data: the chaos tests restart Redis from its AOF and FerretDB)
 *
 * The command is not exec'ed: the supervisor stays around to stop what it started. Its exit code is
 * the command's exit code (128+N if the command died from signal N). The command runs in its own
 * process group (and session); SIGINT/SIGTERM/SIGHUP are forwarded to that whole group, and
 * Redis/FerretDB are stopped only after it has exited. Everything stops, within
 * LOCAL_SERVICES_STOP_TIMEOUT plus a few seconds, when any one of these happens: a signal to the
 * supervisor, the command exiting, a service exiting on its own (the command is stopped: it cannot
 * work without it), the supervisor's parent going away (e.g. `npm start`'s npm or sh killed), or the
 * supervisor itself being SIGKILLed (its watchdog process then stops the command and the services).
 * Whatever is left of the command's process group after the command exits (orphans) is stopped too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseRequest } from './ctl.js';
import { buildFerretdb, ferretdbService } from './ferretdb.js';
import { lockFile, type Lock } from './lock.js';
import { FERRETDB_PORT_BASE, REDIS_PORT_BASE, lockPorts } from './ports.js';
import { DATA, Fatal, ROOT, RUN_DIR, log } from './paths.js';
import { signal, stopGroup } from './processes.js';
import { ensureRedisInstalled, redisService } from './redis.js';
import { reapStaleRuns, removeRun, writeCommand, writeRun } from './runs.js';
import type { Service } from './service.js';

/** A start-up cut short by a signal: exit with its 128+N, no error message. */
class Aborted extends Error {}
/** A start-up failure already reported (its log lines printed): exit 1. */
class Reported extends Error {}

const SIGNAL_EXIT: [NodeJS.Signals, number][] = [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
];

/** Describe a preset URL without credentials: drop scheme, user:password@ and path/query. */
export function urlHost(url: string): string {
  return url
    .replace(/^[a-zA-Z0-9+.-]+:\/\//, '')
    .replace(/^[^@/]*@/, '')
    .replace(/[/?].*$/, '');
}

const seconds = (name: string, fallback: number) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};

export async function runWithServices(argv: string[]): Promise<never> {
  if (argv.length === 0) {
    process.stderr.write('usage: bash scripts/with-services.sh <command> [args...]\n');
    process.exit(2);
  }
  const self = process.pid;
  const origPpid = process.ppid;
  const timeoutMs = seconds('LOCAL_SERVICES_TIMEOUT', 30) * 1000;
  const stopTimeoutMs = seconds('LOCAL_SERVICES_STOP_TIMEOUT', 25) * 1000;
  const persist = ['1', 'true'].includes(process.env.LOCAL_SERVICES_PERSIST ?? '');
  const runName = persist ? 'dev' : `test-${self}`;
  const mongoDb = process.env.LOCAL_MONGODB_DB || 'bloonio';
  const needRedis = !process.env.REDIS_URL;
  const needMongo = !process.env.MONGODB_URI;

  let phase: 'starting' | 'running' | 'stopping' = 'starting';
  let abortCode: number | null = null;
  let child: ChildProcess | null = null;
  let childRunning = false;
  let watchdog: ChildProcess | null = null;
  let parentWatch: NodeJS.Timeout | undefined;
  const locks: Lock[] = [];
  const services: Service[] = [];
  const servicePaths = new Map<Service, string[]>();
  const removePaths: string[] = [];
  const summary: string[] = [];
  let finish: (rc: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => (finish = resolve));

  // Forward INT/TERM/HUP to the command so it can shut down gracefully while the services are still
  // up (they run in their own session, so a terminal Ctrl-C reaches only us and the command). Before
  // the command exists, a signal aborts the start-up (at the next step: a lock wait or the FerretDB
  // build runs to its end first). While we tear down, signals are ignored: a second Ctrl-C must not
  // leave services behind (everything there is bounded in time).
  const forward = (sig: NodeJS.Signals, code: number) => {
    if (phase === 'stopping') return;
    if (child && childRunning) {
      if (!signal(-child.pid!, sig)) signal(child.pid!, sig);
    } else if (phase === 'starting') abortCode ??= code;
  };
  for (const [sig, code] of SIGNAL_EXIT) process.on(sig, () => forward(sig, code));

  const checkAbort = () => {
    if (abortCode !== null) throw new Aborted();
  };
  const record = () =>
    writeRun(
      self,
      services.map((s) => ({ pid: s.pid, paths: servicePaths.get(s) ?? [] })),
    );
  const hooks = {
    onPid: record,
    aborted: () => abortCode !== null,
    onUnexpectedExit: (s: Service, status: string) => {
      if (phase !== 'running') return;
      // (teardown prints its last log lines)
      log(`error: ${s.name} exited on its own (status ${status}); stopping the command`);
      finish(1);
    },
  };

  const failStart = (s: Service, reason: string): never => {
    log(`error: ${s.name} ${reason}; last lines of ${s.spec.logFile}:`);
    s.printLogTail(20);
    throw new Reported();
  };

  const startRedis = async () => {
    ensureRedisInstalled();
    const dir = join(DATA, 'redis', runName);
    mkdirSync(dir, { recursive: true });
    if (!persist) removePaths.push(dir);
    writeFileSync(join(dir, 'redis.log'), ''); // one run's log only: the persistent one would otherwise grow forever
    const redis = redisService(dir, timeoutMs, hooks);
    services.push(redis);
    servicePaths.set(redis, persist ? [] : [dir]);
    const result = await redis.start(REDIS_PORT_BASE);
    checkAbort();
    if (result === 'timeout') failStart(redis, `did not answer PING on 127.0.0.1:${redis.port} within ${timeoutMs / 1000}s`);
    if (result === 'not ours') failStart(redis, `answered on port ${redis.port} but not from the process we started`);
    if (result === 'exited') failStart(redis, 'exited during start-up');
    process.env.REDIS_URL = `redis://127.0.0.1:${redis.port}`;
    summary.push(`redis 127.0.0.1:${redis.port} (started)`);
  };

  const startFerretdb = async () => {
    const dir = join(DATA, 'ferretdb', runName);
    const logFile = join(DATA, 'ferretdb', `${runName}.log`);
    mkdirSync(dir, { recursive: true });
    if (!persist) removePaths.push(dir, logFile);
    writeFileSync(logFile, ''); // one run's log only (FerretDB logs every failed command at warn level)
    const ferretdb = ferretdbService(dir, logFile, timeoutMs, hooks);
    services.push(ferretdb);
    servicePaths.set(ferretdb, persist ? [] : [dir, logFile]);
    const result = await ferretdb.start(FERRETDB_PORT_BASE);
    checkAbort();
    if (result === 'timeout') failStart(ferretdb, `did not accept connections on 127.0.0.1:${ferretdb.port} within ${timeoutMs / 1000}s`);
    if (result !== 'ready') failStart(ferretdb, 'exited during start-up');
    process.env.MONGODB_URI = `mongodb://127.0.0.1:${ferretdb.port}/${mongoDb}`;
    summary.push(`ferretdb 127.0.0.1:${ferretdb.port} (started)`);
  };

  // A SIGKILLed supervisor cannot clean up after itself, and its services (own session) would keep
  // running. The watchdog is a shell reading a pipe from us: the pipe closes when we die, however we
  // die, and the shell then runs `main.mjs --reap-run <our pid>`, which stops the command's process
  // group and our services and deletes their ephemeral data (runs.ts). On a normal exit we end it first.
  const startWatchdog = () => {
    const main = fileURLToPath(new URL('./main.mjs', import.meta.url));
    watchdog = spawn(
      'sh',
      ['-c', 'while read -r _; do :; done; exec "$@"', 'services-watchdog', process.execPath, main, '--reap-run', String(self)],
      { cwd: ROOT, detached: true, stdio: ['pipe', 'ignore', 'inherit'] },
    );
    watchdog.on('error', () => undefined);
    watchdog.unref();
  };

  // Restart requests (ctl.ts): a file per request, SIGUSR1 as the doorbell; served one at a time.
  let ctlQueue = Promise.resolve();
  const serveRequests = async () => {
    let files: string[];
    try {
      files = readdirSync(RUN_DIR).filter((f) => f.startsWith(`${self}.ctl.`) && f.endsWith('.req'));
    } catch {
      return;
    }
    for (const f of files) {
      const path = join(RUN_DIR, f);
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
        rmSync(path, { force: true });
      } catch {
        continue;
      }
      const req = parseRequest(text);
      const service = services.find((s) => s.name === req.name);
      let ok = false;
      if (req.verb === 'restart' && service && phase === 'running') {
        ok = await service.restart(req.how, req.downMs);
        // Did not come back: as a service that died on its own, it stops the command.
        if (!service.running) hooks.onUnexpectedExit(service, 'failed to restart');
      }
      const done = path.replace(/\.req$/, '.done');
      writeFileSync(`${done}.tmp`, ok ? 'ok\n' : 'failed\n');
      renameSync(`${done}.tmp`, done);
    }
  };
  process.on('SIGUSR1', () => {
    ctlQueue = ctlQueue.then(serveRequests).catch((err: unknown) => log(`warning: a restart request failed: ${String(err)}`));
  });

  let rc: number;
  try {
    if (needRedis || needMongo) {
      mkdirSync(RUN_DIR, { recursive: true });
      // The persistent dev data can serve one run at a time (two Redis on one AOF, two FerretDB on one
      // SQLite dir would corrupt it). The lock is held for the supervisor's whole life.
      if (persist) {
        const devLock = await lockFile(join(RUN_DIR, 'dev.lock'), { wait: false });
        if (!devLock)
          throw new Fatal('another with-services run is using the persistent dev data (LOCAL_SERVICES_PERSIST=1); stop it first');
        locks.push(devLock);
      }
      startWatchdog();
      // FerretDB may need a long build; do it before taking the port lock so we don't block other runs.
      if (needMongo) await buildFerretdb();
      checkAbort();
      // Serialise "probe a free port, start, wait until listening" across concurrent runs, so two
      // runs can never pick the same port.
      const portsLock = await lockPorts();
      locks.push(portsLock);
      checkAbort();
      await reapStaleRuns();
      if (needRedis) await startRedis();
      else summary.push(`redis ${urlHost(process.env.REDIS_URL!)} (from REDIS_URL)`);
      if (needMongo) await startFerretdb();
      else summary.push(`mongodb ${urlHost(process.env.MONGODB_URI!)} (from MONGODB_URI)`);
      portsLock.release(); // our services are listening now
    } else {
      summary.push(
        `redis ${urlHost(process.env.REDIS_URL!)} (from REDIS_URL)`,
        `mongodb ${urlHost(process.env.MONGODB_URI!)} (from MONGODB_URI)`,
      );
    }
    checkAbort();
    process.stderr.write(`local services: ${summary.join(', ')}${persist ? ' [persistent]' : ''}\n`);

    process.env.LOCAL_SERVICES_PID = String(self);
    // Our parent gone (npm or its sh killed): nobody would stop us, so stop everything, as on SIGTERM.
    if (origPpid !== 1)
      parentWatch = setInterval(() => {
        if (process.ppid === origPpid) return;
        clearInterval(parentWatch);
        log('the parent process is gone; stopping');
        forward('SIGTERM', 143);
      }, 1000);

    // The command runs in its own process group (detached: its own session too), so that the signal
    // forwarding reaches the whole group, and the orphans it leaves are found by their group. Its
    // signal dispositions are the defaults (libuv resets them), so e.g. a `bash -c` command can be
    // interrupted (the shell script needed `env --default-signal` for that).
    const [file, ...args] = argv as [string, ...string[]];
    phase = 'running';
    child = spawn(file, args, { stdio: 'inherit', detached: true });
    childRunning = child.pid !== undefined;
    if (childRunning) writeCommand(self, child.pid!);
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (child?.pid !== undefined) return;
      log(`${file}: ${err.code === 'ENOENT' ? 'command not found' : err.message}`);
      finish(err.code === 'ENOENT' ? 127 : 126);
    });
    child.once('exit', (code, sig) => {
      childRunning = false;
      finish(code ?? 128 + (sig ? (constants.signals[sig] ?? 0) : 0));
    });
    rc = await finished;
  } catch (err) {
    if (err instanceof Aborted) rc = abortCode ?? 1;
    else if (err instanceof Fatal) {
      log(`error: ${err.message}`);
      rc = 1;
    } else if (err instanceof Reported) rc = 1;
    else {
      log(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      rc = 1;
    }
  }

  // Teardown: the command first (while the services are still up), then the services, newest first.
  phase = 'stopping';
  clearInterval(parentWatch);
  if (child?.pid !== undefined)
    await stopGroup(child.pid, stopTimeoutMs, () =>
      log(`warning: the command's processes did not stop within ${stopTimeoutMs / 1000}s; killing them`),
    );
  await ctlQueue;
  for (const s of [...services].reverse()) {
    if (child?.pid !== undefined && !s.running) {
      // Died on its own while the command ran: worth a warning, the command probably saw errors.
      log(`warning: ${s.name} had already exited; last log lines:`);
      s.printLogTail(15);
    }
    await s.stop();
  }
  for (const p of removePaths) rmSync(p, { recursive: true, force: true });
  removeRun(self);
  (watchdog as ChildProcess | null)?.kill('SIGKILL');
  for (const l of locks) l.release();
  process.exit(rc);
}
