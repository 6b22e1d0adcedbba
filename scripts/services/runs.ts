/**
 * Bookkeeping of the runs in .data/run/, so that services whose supervisor died without cleaning up
 * (SIGKILL) are stopped: at once by that run's watchdog (supervisor.ts), and, should the watchdog be
 * gone too, by the next run, under the ports lock, before it probes for ports.
 *   <supervisor pid>.pids     one line per service: "<pid> <paths to delete>" (ephemeral data)
 *   <supervisor pid>.command  the command's process group
 *   <supervisor pid>.ctl.*    restart requests and their answers (ctl.ts)
 * Pid reuse is guarded by checking the command lines.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive, cmdline, exists, stopGroup, stopPid } from './processes.js';
import { DATA, RUN_DIR, log } from './paths.js';

export const SUPERVISOR_CMDLINE = /services\/main\.mjs|with-services/;

export type ServiceRecord = { pid: number; paths: string[] };

export function writeRun(owner: number, services: ServiceRecord[]): void {
  writeFileSync(join(RUN_DIR, `${owner}.pids`), services.map((s) => `${s.pid} ${s.paths.join(' ')}\n`).join(''));
}

export function writeCommand(owner: number, pgid: number): void {
  writeFileSync(join(RUN_DIR, `${owner}.command`), `${pgid}\n`);
}

/** Our own files, at the end of a run. */
export function removeRun(owner: number): void {
  for (const f of runFiles(owner)) rmSync(join(RUN_DIR, f), { force: true });
}

function runFiles(owner: number): string[] {
  try {
    return readdirSync(RUN_DIR).filter((f) => f.startsWith(`${owner}.`) && f !== `${owner}.`);
  } catch {
    return [];
  }
}

const isService = (pid: number) => {
  const cmd = cmdline(pid);
  return cmd.includes('redis-server') || cmd.includes(join(DATA, 'bin', 'ferretdb'));
};

/** Stops one dead run's services and deletes its ephemeral data; with `command`, its command's processes first. */
export async function reapRun(owner: number, opts: { command?: boolean; stopTimeoutMs?: number } = {}): Promise<void> {
  if (opts.command) {
    let pgid = 0;
    try {
      pgid = Number(readFileSync(join(RUN_DIR, `${owner}.command`), 'utf8').trim());
    } catch {
      /* the command had not started */
    }
    if (pgid > 1 && exists(-pgid)) await stopGroup(pgid, opts.stopTimeoutMs ?? 25_000, () => undefined);
  }
  let lines: string[] = [];
  try {
    lines = readFileSync(join(RUN_DIR, `${owner}.pids`), 'utf8')
      .split('\n')
      .filter(Boolean);
  } catch {
    /* no service recorded */
  }
  for (const line of lines) {
    const [pidText, ...paths] = line.trim().split(/\s+/);
    const pid = Number(pidText);
    if (pid > 1 && isService(pid)) {
      log(
        opts.command
          ? `the supervisor (pid ${owner}) is gone; stopping its service (pid ${pid})`
          : `stopping leftover service (pid ${pid}) of an earlier run that did not clean up`,
      );
      await stopPid(pid, 5000);
    }
    for (const p of paths) if (p.startsWith(`${DATA}/`)) rmSync(p, { recursive: true, force: true });
  }
  removeRun(owner);
}

/** The runs whose supervisor is gone (its pid dead or reused by something else). */
export async function reapStaleRuns(): Promise<void> {
  let files: string[];
  try {
    files = readdirSync(RUN_DIR).filter((f) => f.endsWith('.pids'));
  } catch {
    return;
  }
  for (const f of files) {
    const owner = Number(f.slice(0, -'.pids'.length));
    if (!Number.isInteger(owner) || (alive(owner) && SUPERVISOR_CMDLINE.test(cmdline(owner)))) continue;
    await reapRun(owner);
  }
}
