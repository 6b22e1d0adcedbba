/**
 * Splits the mocha test files into lanes of about equal time, for scripts/test.sh to run at once
 * (each lane a mocha process on Redis and FerretDB of its own).
 *
 *   npx tsx scripts/test-lanes.ts split N          one line per lane: its files, space-separated
 *   npx tsx scripts/test-lanes.ts record F...      merges the times mocha wrote (TEST_DURATIONS_OUT,
 *                                                  test/support/timing-reporter.cts) into the cache
 *
 * A file's time is what the last run on this machine measured (.data/test-durations.json, ignored by
 * git), else the committed test/durations.json (a fresh clone), else the median of the known times.
 * The split is greedy, longest first, onto the lane with the least time so far (the LPT rule: within
 * 4/3 of the best split), and sorted by name inside a lane, so the order of a lane is stable.
 * Refresh the committed times after adding slow tests: `cp .data/test-durations.json test/durations.json`.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const COMMITTED = join(ROOT, 'test/durations.json');
const MEASURED = join(ROOT, '.data/test-durations.json');

type Times = Record<string, number>;

function readTimes(file: string): Times {
  if (!existsSync(file)) return {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (parsed === null || typeof parsed !== 'object') return {};
    return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, number] => typeof e[1] === 'number' && e[1] >= 0));
  } catch {
    return {}; // a torn cache only costs balance
  }
}

export function testFiles(dir = 'test'): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => `${dir}/${f.split('\\').join('/')}`)
    .sort();
}

export function splitLanes(files: string[], times: Times, lanes: number): string[][] {
  const known = files
    .map((f) => times[f])
    .filter((t): t is number => t !== undefined)
    .sort((a, b) => a - b);
  const fallback = known.length ? (known[Math.floor(known.length / 2)] ?? 1) : 1;
  const cost = (f: string) => times[f] ?? fallback;
  const out = Array.from({ length: lanes }, () => ({ files: [] as string[], time: 0 }));
  for (const f of [...files].sort((a, b) => cost(b) - cost(a) || a.localeCompare(b))) {
    const lane = out.reduce((min, l) => (l.time < min.time ? l : min));
    lane.files.push(f);
    lane.time += cost(f);
  }
  return out.map((l) => l.files.sort()).filter((l) => l.length > 0);
}

function main(argv: string[]): void {
  const [cmd, ...args] = argv;
  if (cmd === 'split') {
    const lanes = Number(args[0] ?? '1');
    if (!Number.isInteger(lanes) || lanes < 1) throw new Error(`lanes must be a whole number ≥ 1, not ${args[0]}`);
    const times = { ...readTimes(COMMITTED), ...readTimes(MEASURED) };
    for (const lane of splitLanes(testFiles(), times, lanes)) console.log(lane.join(' '));
  } else if (cmd === 'record') {
    // A file that failed to run in this run keeps its earlier time: only what was measured replaces.
    const merged = readTimes(MEASURED);
    for (const f of args) Object.assign(merged, readTimes(f));
    const files = new Set(testFiles());
    const kept = Object.fromEntries(
      Object.entries(merged)
        .filter(([f]) => files.has(f))
        .sort(([a], [b]) => a.localeCompare(b)),
    );
    writeFileSync(MEASURED, `${JSON.stringify(kept, null, 2)}\n`);
  } else {
    throw new Error('usage: test-lanes.ts split N | record FILE...');
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2));
