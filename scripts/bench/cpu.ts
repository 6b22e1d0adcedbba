/**
 * CPU seconds used by the processes of a bench run, read from /proc (Linux): where the time goes.
 * Redis and FerretDB are found by their listening port (from REDIS_URL / MONGODB_URI).
 */
import { readFileSync, readdirSync } from 'node:fs';

const TICK = 100; // USER_HZ on Linux

/** utime + stime of a process in seconds, or NaN when it is gone / not readable. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICK;
  } catch {
    return NaN;
  }
}

/** The pid of a process whose command line contains all `needles`, or undefined. */
export function findPid(...needles: string[]): number | undefined {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    if (needles.every((n) => cmd.includes(n))) return Number(d);
  }
  return undefined;
}

/** The local redis-server and FerretDB behind the URLs (when they run on this machine). */
export function servicePids(redisUrl: string, mongoUri: string): Record<string, number> {
  const out: Record<string, number> = {};
  const rport = new URL(redisUrl).port;
  const mport = new URL(mongoUri).port;
  const redis = findPid('redis-server', `:${rport}`) ?? findPid('redis-server', `--port ${rport}`);
  const ferret = findPid('ferretdb', `:${mport}`);
  if (redis) out.redis = redis;
  if (ferret) out.ferretdb = ferret;
  return out;
}

/** Starts measuring; the returned function gives CPU seconds per named process since the start. */
export function cpuMeter(pids: Record<string, number>): () => Record<string, number> {
  const start = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, cpuSeconds(p)]));
  return () => Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, Number((cpuSeconds(p) - (start[k] ?? 0)).toFixed(2))]));
}
