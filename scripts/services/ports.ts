/**
 * Picking ports for the local services, serialised across concurrent runs by .data/run/ports.lock:
 * "probe a free port, start, wait until listening" happens under the lock, so two runs can never
 * pick the same port, and a service restarted in place keeps its port (the restart holds the lock
 * while the port is free, see Service.restart).
 *
 * Ports are probed upward from a base below the kernel's ephemeral range (32768+), so an outgoing
 * connection can't be sitting on the port we pick (nor take it while a service is down for a
 * restart), and clear of the default 6379/27017 (Docker / system services) and of anybody's FerretDB
 * on 37017.
 */
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { lockFile, type Lock } from './lock.js';
import { Fatal, RUN_DIR } from './paths.js';

export const REDIS_PORT_BASE = 6390;
export const FERRETDB_PORT_BASE = 27030;
export const PORT_PROBE_SPAN = 200;

/** Something accepts connections on 127.0.0.1:port (a refused connection answers at once on loopback). */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const done = (inUse: boolean) => {
      socket.destroy();
      resolve(inUse);
    };
    socket.setTimeout(2000, () => done(true)); // no answer at all: someone holds it
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Nobody can bind 127.0.0.1:port (a listen test: also sees a port bound but not yet listening). */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

export async function findFreePort(base: number, span = PORT_PROBE_SPAN): Promise<number> {
  for (let port = base; port < base + span; port++) if (!(await portInUse(port))) return port;
  throw new Fatal(`no free port in ${base}..${base + span - 1} on 127.0.0.1`);
}

export function lockPorts(): Promise<Lock> {
  mkdirSync(RUN_DIR, { recursive: true });
  return lockFile(join(RUN_DIR, 'ports.lock'), { wait: true }) as Promise<Lock>;
}
