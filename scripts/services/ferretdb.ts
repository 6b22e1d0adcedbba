/**
 * FerretDB, the MongoDB-compatible server of local development and tests: built from scripts/ferretdb
 * (FerretDB v1.24.0 embedded, see main.go for why) into .data/bin/ferretdb, and run on its SQLite
 * backend with one directory per run.
 */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { lockFile } from './lock.js';
import { portInUse } from './ports.js';
import { DATA, Fatal, ROOT, log } from './paths.js';
import { Service, type ServiceSpec } from './service.js';

const SRC = join(ROOT, 'scripts', 'ferretdb');
export const FERRETDB_BIN = join(DATA, 'bin', 'ferretdb');

/** Missing, or older than any of its sources (main.go, go.mod, go.sum, the patches). */
function stale(): boolean {
  let built: number;
  try {
    built = statSync(FERRETDB_BIN).mtimeMs;
  } catch {
    return true;
  }
  const sources = ['main.go', 'go.mod', 'go.sum', ...readdirSync(SRC).filter((f) => f.endsWith('.patch'))];
  return sources.some((f) => existsSync(join(SRC, f)) && statSync(join(SRC, f)).mtimeMs > built);
}

function goBinary(): string | null {
  if (spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0) return 'go';
  return existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : null;
}

/** Runs a Go step in scripts/ferretdb; its output goes to stderr without the "go: downloading …" noise. */
function go(goBin: string, args: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    // CGO off: FerretDB's SQLite is pure Go (modernc.org/sqlite), so no C compiler is needed.
    const p = spawn(goBin, args, { cwd: SRC, env: { ...process.env, CGO_ENABLED: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let rest = '';
    const filter = (d: Buffer) => {
      const lines = (rest + d.toString()).split('\n');
      rest = lines.pop() ?? '';
      // The ~55 "go: downloading ..." lines of a fresh machine are noise; real errors still show.
      for (const l of lines) if (!l.startsWith('go: downloading ')) process.stderr.write(`${l}\n`);
    };
    p.stdout.on('data', filter);
    p.stderr.on('data', filter);
    p.on('error', () => resolve(false));
    p.on('close', (code) => {
      if (rest && !rest.startsWith('go: downloading ')) process.stderr.write(`${rest}\n`);
      resolve(code === 0);
    });
  });
}

/**
 * Copies the FerretDB module (3.4 MB) to `dir`/ferretdb, applies scripts/ferretdb/*.patch there, and
 * writes `dir`/go.mod (+ go.sum): ours plus a `replace` pointing at the patched copy, for `go build
 * -modfile`. Go refuses -overlay for files in the module cache, and the cache itself stays pristine.
 * The patches: sqlite-id-pushdown.patch, as FerretDB v1's SQLite backend otherwise scans a whole
 * table for `{_id, tenant_id}` filters, which made every tenant-scoped lookup O(collection);
 * update-iterators.patch, as an update command of more than 100 matching statements otherwise
 * deadlocks on its own connection pool; update-write-errors.patch, as an unordered update command
 * otherwise stops at its first write error without applying (or reporting) the statements after it.
 * See their comments.
 */
function patchedModule(goBin: string, dir: string): boolean {
  const listed = spawnSync(goBin, ['list', '-m', '-f', '{{.Dir}}', 'github.com/FerretDB/FerretDB'], {
    cwd: SRC,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (listed.status !== 0) return false;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(listed.stdout.trim(), join(dir, 'ferretdb'), { recursive: true });
  chmodRecursive(join(dir, 'ferretdb')); // the module cache is read-only
  for (const patch of readdirSync(SRC)
    .filter((f) => f.endsWith('.patch'))
    .sort()) {
    // The ceiling keeps git from taking .data/ for part of this repository (git apply would then
    // resolve the patch's paths against the repository's root).
    const applied = spawnSync('git', ['-C', join(dir, 'ferretdb'), 'apply', '-p1', join(SRC, patch)], {
      env: { ...process.env, GIT_CEILING_DIRECTORIES: dir },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (applied.status !== 0) return false;
  }
  copyFileSync(join(SRC, 'go.mod'), join(dir, 'go.mod'));
  copyFileSync(join(SRC, 'go.sum'), join(dir, 'go.sum'));
  appendFileSync(join(dir, 'go.mod'), `\nreplace github.com/FerretDB/FerretDB => ${join(dir, 'ferretdb')}\n`);
  return true;
}

function chmodRecursive(path: string): void {
  const st = statSync(path);
  chmodSync(path, st.mode | 0o200);
  if (st.isDirectory()) for (const f of readdirSync(path)) chmodRecursive(join(path, f));
}

/** Builds .data/bin/ferretdb when it is missing or older than its sources. */
export async function buildFerretdb(): Promise<void> {
  if (!stale()) return;
  const goBin = goBinary();
  if (!goBin) throw new Fatal('Go is needed to build FerretDB (scripts/ferretdb); install Go or set MONGODB_URI');
  mkdirSync(join(DATA, 'bin'), { recursive: true });
  // Go needs a cache dir; without HOME (some CI sandboxes) it has none, so give it one in .data.
  // (Exported as the shell script did: the command sees them too.)
  if (!process.env.HOME) {
    process.env.GOCACHE ??= join(DATA, 'go', 'cache');
    process.env.GOMODCACHE ??= join(DATA, 'go', 'mod');
    process.env.GOPATH ??= join(DATA, 'go');
  }
  // Concurrent first runs: one builds, the others wait for it and then find the binary fresh.
  const lock = await lockFile(join(DATA, 'bin', '.ferretdb.build.lock'), { wait: true });
  try {
    if (!stale()) return;
    log('building FerretDB into .data/bin/ferretdb (first build takes ~70 s, mostly downloads)');
    const tmp = `${FERRETDB_BIN}.tmp.${process.pid}`;
    const t0 = Date.now();
    // -buildvcs=false: the source sits inside this git repo; VCS stamping is noise (and fails when
    // git is missing or the repo is owned by another user).
    const ok =
      (await go(goBin, ['mod', 'download', 'github.com/FerretDB/FerretDB'])) &&
      patchedModule(goBin, `${tmp}.src`) &&
      (await go(goBin, ['build', '-buildvcs=false', '-trimpath', '-modfile', `${tmp}.src/go.mod`, '-o', tmp, '.']));
    rmSync(`${tmp}.src`, { recursive: true, force: true });
    if (!ok) {
      rmSync(tmp, { force: true });
      throw new Fatal('building FerretDB failed (see the Go output above); or set MONGODB_URI to use another MongoDB');
    }
    renameSync(tmp, FERRETDB_BIN); // atomic: a concurrent run never sees a half-written binary
    log(`FerretDB built in ${Math.round((Date.now() - t0) / 1000)} s`);
  } finally {
    lock?.release();
  }
}

export function ferretdbSpec(dir: string, logFile: string, timeoutMs: number): ServiceSpec {
  return {
    name: 'ferretdb',
    logFile,
    timeoutMs,
    ownSession: true,
    ready: portInUse,
    // The SQLite URL names a directory (one .sqlite file per database) and must end with "/".
    command: (port) => ({
      file: FERRETDB_BIN,
      args: ['--listen-addr', `127.0.0.1:${port}`, '--sqlite-url', `file:${dir}/`, '--log-level', 'warn'],
    }),
  };
}

export function ferretdbService(
  dir: string,
  logFile: string,
  timeoutMs: number,
  hooks?: ConstructorParameters<typeof Service>[1],
): Service {
  return new Service(ferretdbSpec(dir, logFile, timeoutMs), hooks);
}
