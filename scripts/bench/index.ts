/**
 * `npm run bench`: every benchmark scenario (scripts/bench/scenarios.ts), one after the other (never
 * two at once: they share the CPUs), each alternating with or preceded by its baseline in the same
 * run, then one table of every figure: value, baseline, ratio, target, met or not. The table of a
 * full run is written into docs/benchmarks.md (between `<!-- bench:figures -->` and
 * `<!-- /bench:figures -->`); every run's goes to .data/bench/last.md (and the figures to
 * last.json) with the machine it ran on.
 *
 *   bash scripts/with-services.sh npx tsx scripts/bench/index.ts [names…]
 *   npm run bench -- delivery.throughput
 *
 * Names: a scenario (`signed.enqueue`) or an area (`signed`: all its scenarios); default: all. Each
 * scenario runs in a process of its own (scripts/bench/run.ts), prints its own table as it goes, and
 * a `BENCH_FIGURES {…}` line that this script collects.
 *
 * Every bench runs twice, once with Redis at `appendfsync always` (the relay's setting: nothing
 * acknowledged is lost in a crash) and once at `everysec` (set live with CONFIG SET on the Redis of
 * REDIS_URL, in alternating order from one bench to the next), and each row shows both and what
 * `always` costs; a cost above 10% is flagged. BENCH_FSYNC=always (or everysec) runs one setting only.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { ROOT, fmt, machine, table, type Figure } from './common.js';
import { selectScenarios } from './scenarios.js';

type Fsync = 'always' | 'everysec';
/** What `always` costs against `everysec` on one figure, as a fraction: more time (ms), or less of anything else (rates, shares). */
const costOf = (f: Figure, everysec: number) =>
  everysec === 0 ? 0 : f.unit === 'ms' ? (f.value - everysec) / everysec : (everysec - f.value) / everysec;

/** The page the figures are written into, between these markers (the rest of the page is prose). */
const DOCS_PAGE = path.join(ROOT, 'docs/benchmarks.md');
const OPEN = '<!-- bench:figures -->';
const CLOSE = '<!-- /bench:figures -->';

/** One scenario in a process of its own (scripts/bench/run.ts): a crash or a leak stays there. */
function run(name: string): Promise<{ figures: Figure[]; ok: boolean; seconds: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'scripts/bench/run.ts', name], {
      cwd: ROOT,
      env: process.env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      const s = d.toString();
      out += s;
      process.stdout.write(s);
    });
    p.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('BENCH_FIGURES '));
      const figures = line ? ((JSON.parse(line.slice('BENCH_FIGURES '.length)) as { figures: Figure[] }).figures ?? []) : [];
      resolve({ figures, ok: code === 0 && !!line, seconds: (Date.now() - started) / 1000 });
    });
  });
}

async function main(): Promise<void> {
  const names = selectScenarios(process.argv.slice(2)).map((s) => s.name);
  const only = process.env.BENCH_FSYNC as Fsync | undefined;
  if (only && only !== 'always' && only !== 'everysec') throw new Error('BENCH_FSYNC is always or everysec');
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
  const [, before] = (await redis.config('GET', 'appendfsync')) as string[];
  const m = await machine();
  const rows: (string | number)[][] = [];
  const all: (Figure & { bench: string; fsync: Fsync; everysec?: number; cost?: number })[] = [];
  const failed: string[] = [];
  for (const [i, n] of names.entries()) {
    const order: Fsync[] = only ? [only] : i % 2 ? ['everysec', 'always'] : ['always', 'everysec'];
    const got = new Map<Fsync, Figure[]>();
    for (const fsync of order) {
      await redis.config('SET', 'appendfsync', fsync);
      console.error(`\n=== bench ${n} (appendfsync ${fsync}) ===`);
      const r = await run(n);
      console.error(`=== bench ${n} (appendfsync ${fsync}): ${r.ok ? 'done' : 'FAILED'} in ${fmt(r.seconds)} s ===`);
      if (!r.ok) failed.push(`${n} (${fsync})`);
      got.set(fsync, r.figures);
    }
    const main = got.get(only ?? 'always') ?? [];
    const slow = got.get('everysec') ?? [];
    for (const f of main) {
      const e = only ? undefined : slow.find((x) => x.figure === f.figure)?.value;
      const cost = e === undefined ? undefined : costOf(f, e);
      all.push({ ...f, bench: n, fsync: only ?? 'always', ...(e === undefined ? {} : { everysec: e, cost }) });
      rows.push([
        f.figure,
        `${f.value} ${f.unit}`,
        ...(only ? [] : [e === undefined ? '—' : `${e}`, cost === undefined ? '—' : `${fmt(cost * 100, 1)}%${cost > 0.1 ? ' CHECK' : ''}`]),
        f.baseline ? `${f.baseline.value} (${f.baseline.name})` : '—',
        f.baseline && f.baseline.value ? fmt(f.value / f.baseline.value, 3) : '—',
        f.target,
        f.met === null ? '—' : f.met ? 'met' : 'NOT met',
      ]);
    }
  }
  await redis.config('SET', 'appendfsync', before ?? 'always');
  redis.disconnect();
  const header = `Bloonio Relay benchmarks, ${new Date().toISOString()}: ${m.cpus} CPUs (${m.cpu_model}), node ${m.node}, load before ${m.load1}`;
  const t = table(
    [
      'figure',
      only ? `value (appendfsync ${only})` : 'value (appendfsync always)',
      ...(only ? [] : ['everysec', 'cost of always']),
      'baseline (same run)',
      'ratio',
      'target',
      '',
    ],
    rows,
  );
  console.log(`\n${header}\n${t}`);
  if (failed.length) console.log(`\nbenchmarks that failed to run: ${failed.join(', ')}`);
  const dir = path.join(ROOT, '.data/bench');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'last.md'), `${header}\n\n\`\`\`\n${t}\n\`\`\`\n`);
  writeFileSync(path.join(dir, 'last.json'), JSON.stringify({ at: new Date().toISOString(), machine: m, figures: all, failed }, null, 2));
  // Only a full run replaces the page's figures: a subset would drop the others' from it.
  if (names.length === selectScenarios([]).length) writeDocsFigures(header, t, failed);
  else console.log(`\n${path.relative(ROOT, DOCS_PAGE)} left as it was: only a full run writes its figures`);
  process.exit(failed.length ? 1 : 0);
}

/** Replaces what is between the markers of docs/benchmarks.md (created with the markers if missing). */
function writeDocsFigures(header: string, t: string, failed: string[]): void {
  const block = `${OPEN}\n\n${header}\n\n\`\`\`\n${t}\n\`\`\`\n${failed.length ? `\nFailed to run: ${failed.join(', ')}\n` : ''}\n${CLOSE}`;
  const page = existsSync(DOCS_PAGE)
    ? readFileSync(DOCS_PAGE, 'utf8')
    : `# Benchmarks\n\nWritten by \`npm run bench\`.\n\n${OPEN}\n${CLOSE}\n`;
  const from = page.indexOf(OPEN);
  const to = page.indexOf(CLOSE, from);
  const next = from >= 0 && to >= 0 ? page.slice(0, from) + block + page.slice(to + CLOSE.length) : `${page.trimEnd()}\n\n${block}\n`;
  mkdirSync(path.dirname(DOCS_PAGE), { recursive: true });
  writeFileSync(DOCS_PAGE, next);
  console.log(`\nfigures written into ${path.relative(ROOT, DOCS_PAGE)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
