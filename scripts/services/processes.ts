/**
 * Small process helpers on pids we do not necessarily hold a ChildProcess for: liveness, command
 * lines (pid reuse guard), and the bounded stops (TERM, a grace period, then KILL) the supervisor,
 * its watchdog and the stale-run reaper share.
 */
import { readFileSync } from 'node:fs';
import { sleep } from './paths.js';

/** Signal 0: does the process (or, for a negative pid, any process of the group) exist? */
export function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Alive and not a zombie (a zombie has exited already; only its parent's wait is missing). */
export function alive(pid: number): boolean {
  if (!exists(pid)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z /s.test(stat);
  } catch {
    return true; // no /proc (not Linux): signal 0 is all we know
  }
}

export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

export function signal(pid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** Polls every 100 ms until `gone()` or `ms` passed; true when gone. */
export async function waitGone(gone: () => boolean, ms: number): Promise<boolean> {
  for (let waited = 0; waited < ms; waited += 100) {
    if (gone()) return true;
    await sleep(100);
  }
  return gone();
}

/** TERM, `graceMs` to stop cleanly, then KILL: for a pid that is not our child (the reaper's). */
export async function stopPid(pid: number, graceMs: number): Promise<void> {
  if (!signal(pid, 'SIGTERM')) return;
  if (!(await waitGone(() => !alive(pid), graceMs))) signal(pid, 'SIGKILL');
}

/**
 * Stop the command's whole process group: TERM, `graceMs`, then KILL (with `onKill` told first).
 * Also catches processes the command left behind: orphans keep its process group.
 */
export async function stopGroup(pgid: number, graceMs: number, onKill: () => void): Promise<void> {
  if (!signal(-pgid, 'SIGTERM')) return;
  if (await waitGone(() => !exists(-pgid), graceMs)) return;
  onKill();
  signal(-pgid, 'SIGKILL');
  await waitGone(() => !exists(-pgid), 5000);
}
