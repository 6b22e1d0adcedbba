/**
 * Stopping the relay (issue 9, defect 7), as a developer does it: `npm start` is spawned for real
 * (npm → sh → with-services.sh → dev.ts → web + worker, and a private Redis and FerretDB), then
 * Ctrl-C, or SIGTERM to one process of that tree; afterwards no process of the tree is alive and no
 * port it opened is listening. And the worker alone: SIGTERM with a job stuck on a receiver that
 * never answers still ends the process within WORKER_SHUTDOWN_TIMEOUT_MS.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Receiver } from '../fakes/receiver.js';
import { provision, signed } from '../support/client.js';
import { eventually, sleep, spawnWorker, startRelay } from '../support/harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z /.test(stat); // a zombie has exited already
  } catch {
    return false;
  }
};

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

/** Every descendant of `root`, with its command line. */
function tree(root: number): { pid: number; cmd: string }[] {
  const parentOf = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parentOf.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone meanwhile */
    }
  }
  const out: { pid: number; cmd: string }[] = [];
  const walk = (pid: number) => {
    for (const [child, parent] of parentOf) {
      if (parent !== pid) continue;
      let cmd: string;
      try {
        cmd = readFileSync(`/proc/${child}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      } catch {
        continue;
      }
      out.push({ pid: child, cmd });
      walk(child);
    }
  };
  walk(root);
  return out;
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

type Tree = { npm: ChildProcess; pids: Record<string, number>; all: number[]; ports: number[]; output: () => string };

const ROLES: Record<string, (cmd: string) => boolean> = {
  sh: (c) => /^(\/bin\/)?sh -c/.test(c),
  // scripts/with-services.sh execs the supervisor (scripts/services/main.mjs); not its watchdog.
  'with-services': (c) => /services\/main\.mjs/.test(c) && !/watch/.test(c),
  dev: (c) => /scripts\/dev\.ts/.test(c),
  web: (c) => /api\/server\.ts/.test(c),
  worker: (c) => /workers\/index\.ts/.test(c),
  redis: (c) => /redis-server/.test(c),
  ferretdb: (c) => /\.data\/bin\/ferretdb/.test(c),
};

async function startTree(dir: string): Promise<Tree> {
  const port = await freePort();
  const env: Record<string, string> = { ...(process.env as Record<string, string>) };
  for (const k of ['REDIS_URL', 'MONGODB_URI', 'LOCAL_SERVICES_PID', 'npm_lifecycle_event']) delete env[k];
  Object.assign(env, {
    PORT: String(port),
    LOCAL_SERVICES_PERSIST: '0',
    BLOONIO_LOCAL_ENV: join(dir, 'local.env'),
    WORKER_SHUTDOWN_TIMEOUT_MS: '3000',
    LOCAL_SERVICES_STOP_TIMEOUT: '8',
    LOG_LEVEL: 'warn',
  });
  // Its own process group, like a shell's foreground job, so "Ctrl-C" can reach the whole group.
  const npm = spawn('npm', ['start'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  npm.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  npm.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  await eventually(async () => out.includes('Bloonio Relay ready') || npm.exitCode !== null, 60_000, 100);
  assert.ok(out.includes('Bloonio Relay ready'), out);
  const all = tree(npm.pid!);
  const pids: Record<string, number> = { npm: npm.pid! };
  for (const [role, test] of Object.entries(ROLES)) {
    const found = all.find((p) => test(p.cmd));
    assert.ok(found, `${role} in the tree:\n${all.map((p) => `${p.pid} ${p.cmd}`).join('\n')}`);
    pids[role] = found.pid;
  }
  const services = /local services: redis 127\.0\.0\.1:(\d+).*ferretdb 127\.0\.0\.1:(\d+)/.exec(out);
  assert.ok(services, out);
  return {
    npm,
    pids,
    all: [npm.pid!, ...all.map((p) => p.pid)],
    ports: [port, Number(services[1]), Number(services[2])],
    output: () => out,
  };
}

describe('stopping: Ctrl-C or SIGTERM to any process of `npm start` stops all of it', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'bloonio-stop-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases: [string, string, NodeJS.Signals][] = [
    ['Ctrl-C (SIGINT to the foreground process group)', 'group', 'SIGINT'],
    ['SIGTERM to npm (the top process)', 'npm', 'SIGTERM'],
    ...Object.keys(ROLES).map((role): [string, string, NodeJS.Signals] => [`SIGTERM to ${role}`, role, 'SIGTERM']),
  ];
  for (const [title, target, signal] of cases) {
    it(title, async () => {
      const t = await startTree(dir);
      try {
        for (const p of t.ports) assert.ok(await listening(p), `port ${p} listening before`);
        const started = Date.now();
        if (target === 'group') process.kill(-t.npm.pid!, signal);
        else process.kill(t.pids[target]!, signal);
        // The documented bound: WORKER_SHUTDOWN_TIMEOUT_MS (3 s here) for the relay's processes, then
        // the services' clean stop; 20 s leaves room for a loaded machine.
        await eventually(async () => t.all.every((pid) => !alive(pid)), 20_000, 100).catch(() => {
          const left = t.all.filter(alive).map((pid) => `${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')}`);
          assert.fail(
            `still alive ${Date.now() - started} ms after ${signal} to ${target}:\n${left.join('\n')}\n${t.output().slice(-3000)}`,
          );
        });
        const ms = Date.now() - started;
        for (const p of t.ports) assert.equal(await listening(p), false, `port ${p} closed`);
        console.log(
          `      everything stopped ${ms} ms after ${signal} to ${target} (${t.all.length} processes, ports ${t.ports.join(', ')})`,
        );
      } finally {
        for (const pid of t.all) if (alive(pid)) process.kill(pid, 'SIGKILL');
      }
    });
  }
});

describe('stopping: the worker exits within WORKER_SHUTDOWN_TIMEOUT_MS with a job stuck', function () {
  this.timeout(60_000);
  it('SIGTERM while a callback hangs on a receiver that never answers', async () => {
    const relay = await startRelay('stopworker');
    const receiver = await new Receiver().start();
    receiver.always({ hang: true });
    try {
      const worker = await spawnWorker({ ...relay.env, CALLBACK_TIMEOUT_MS: '60000', WORKER_SHUTDOWN_TIMEOUT_MS: '3000' });
      const creds = await provision(relay.baseUrl, { callback_url_base: receiver.url });
      assert.equal((await signed(relay.baseUrl, creds, 'POST', '/relay/send/test-callback', {})).status, 202);
      await eventually(async () => receiver.received.length > 0, 15_000);
      await sleep(200);
      const started = Date.now();
      const exited = new Promise<number>((r) => worker.proc.once('exit', () => r(Date.now() - started)));
      worker.proc.kill('SIGTERM');
      const ms = await Promise.race([exited, sleep(15_000).then(() => -1)]);
      if (ms < 0) worker.proc.kill('SIGKILL');
      assert.ok(ms >= 0, `worker still alive 15 s after SIGTERM:\n${worker.output().slice(-2000)}`);
      assert.ok(ms <= 3000 + 1000, `stopped after ${ms} ms`);
      console.log(`      worker stopped ${ms} ms after SIGTERM with a job in flight (deadline 3000 ms)`);
    } finally {
      await receiver.stop();
      await relay.stop();
    }
  });
});
