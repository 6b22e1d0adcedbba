/**
 * Restarting a service of the supervisor this process runs under, in place (same port, same data
 * directory), from the command it runs (the chaos tests):
 *
 *   import { services } from '../../scripts/services/ctl.js';
 *   await services.restart('redis', { how: 'kill', downMs: 1500 });
 *
 *   npx tsx scripts/services/ctl.ts restart redis|ferretdb [term|kill] [DOWN_MS]   (the same, from a shell)
 *
 * `term` (default) stops it cleanly; `kill` SIGKILLs it, so Redis comes back from its AOF as after a
 * crash (with appendfsync always, nothing it acknowledged is lost). `downMs` keeps it down that long
 * before starting it again (an outage callers can observe). Resolves once it answers again.
 *
 * The request is a file .data/run/<supervisor pid>.ctl.<id>.req, and SIGUSR1 wakes the supervisor
 * (LOCAL_SERVICES_PID, which it exports); the answer is .ctl.<id>.done, "ok" or "failed".
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RUN_DIR, sleep } from './paths.js';

export type ServiceName = 'redis' | 'ferretdb';
export type RestartOptions = { how?: 'term' | 'kill'; downMs?: number; timeoutMs?: number };
export type CtlRequest = { verb: string; name: string; how: 'term' | 'kill'; downMs: number };

export function parseRequest(text: string): CtlRequest {
  const [verb = '', name = '', how = 'term', down = '0'] = text.trim().split(/\s+/);
  return { verb, name, how: how === 'kill' ? 'kill' : 'term', downMs: Number(down) || 0 };
}

async function restart(name: ServiceName, opts: RestartOptions = {}): Promise<void> {
  const pid = Number(process.env.LOCAL_SERVICES_PID);
  if (!pid) throw new Error('not running under scripts/with-services.sh (LOCAL_SERVICES_PID is not set)');
  const id = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const req = join(RUN_DIR, `${pid}.ctl.${id}.req`);
  const done = join(RUN_DIR, `${pid}.ctl.${id}.done`);
  writeFileSync(`${req}.tmp`, `restart ${name} ${opts.how ?? 'term'} ${opts.downMs ?? 0}\n`);
  renameSync(`${req}.tmp`, req); // whole or absent: the supervisor never reads half a request
  process.kill(pid, 'SIGUSR1');
  const timeoutMs = opts.timeoutMs ?? 60_000;
  for (let waited = 0; waited < timeoutMs; waited += 100) {
    if (existsSync(done)) {
      const result = readFileSync(done, 'utf8').trim();
      rmSync(done, { force: true });
      if (result === 'ok') return;
      throw new Error(`services: restart ${name} failed`);
    }
    await sleep(100);
  }
  rmSync(req, { force: true });
  throw new Error(`services: no answer from with-services (pid ${pid}) within ${timeoutMs / 1000} s`);
}

/** The services of the supervisor this process runs under. */
export const services = { restart };

async function main(argv: string[]): Promise<void> {
  const [verb, name, how, down] = argv;
  if (verb !== 'restart' || (name !== 'redis' && name !== 'ferretdb')) {
    console.error('usage: ctl.ts restart redis|ferretdb [term|kill] [DOWN_MS]');
    process.exit(2);
  }
  try {
    await restart(name, { how: how === 'kill' ? 'kill' : 'term', downMs: Number(down ?? 0) || 0 });
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
}

// No top-level await: mocha loads test files (and so this module) through require() first, and a
// module with top-level await makes it fall back to import(), which evaluates the models twice.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) void main(process.argv.slice(2));
