/**
 * File locks between concurrent runs (the ports lock, the persistent-data lock, the FerretDB build
 * lock). Node has no flock(2), so flock(1) holds it: it runs `cat` on a pipe from us, and the kernel
 * releases the lock when that pair exits, which it does when we release the lock or when we die,
 * even by SIGKILL (the pipe closes). The holder runs in its own session so that a terminal Ctrl-C
 * to our process group does not end it (and the lock with it) while we still rely on it.
 * Without flock(1) (not Linux), runs are not serialised, as before.
 */
import { spawn, spawnSync } from 'node:child_process';

export type Lock = { release: () => void };

let flockAvailable: boolean | undefined;
function haveFlock(): boolean {
  flockAvailable ??= spawnSync('flock', ['--version'], { stdio: 'ignore' }).status === 0;
  return flockAvailable;
}

/** Takes the lock on `file` (created if missing); waits for it, or with `wait: false` returns null if it is held. */
export function lockFile(file: string, opts: { wait: boolean }): Promise<Lock | null> {
  if (!haveFlock()) return Promise.resolve({ release: () => undefined });
  const holder = spawn('flock', [...(opts.wait ? [] : ['-n']), file, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
    stdio: ['pipe', 'pipe', 'ignore'],
    detached: true,
  });
  // Not unref()ed: while we wait for the lock, this child may be all that keeps the event loop alive.
  return new Promise((resolve, reject) => {
    let out = '';
    holder.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('locked'))
        resolve({
          release: () => {
            holder.stdin.end();
            holder.stdout.destroy();
          },
        });
    });
    holder.once('error', reject);
    holder.once('exit', () => resolve(null)); // -n and held elsewhere (after "locked", a no-op)
  });
}
