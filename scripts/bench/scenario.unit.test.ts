/**
 * The benchmark scenario runner (scripts/bench/scenario.ts), without services: the steps run in order,
 * the figures line is printed, and every clean-up runs, in reverse, also when a step throws.
 */
import assert from 'node:assert/strict';
import { runScenario, scenario } from './scenario.js';

/** Runs `fn` with console.log and console.error captured. */
async function captured<T>(fn: () => Promise<T>): Promise<{ value?: T; error?: unknown; out: string[] }> {
  const out: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void out.push(a.join(' '));
  try {
    return { value: await fn(), out };
  } catch (err) {
    return { error: err, out };
  } finally {
    console.log = log;
    console.error = error;
  }
}

describe('bench scenario runner', () => {
  it('runs setup, run and report in order, prints the figures, then the clean-ups in reverse', async () => {
    const steps: string[] = [];
    const s = scenario({
      name: 'unit.ok',
      about: 'test',
      setup: async (defer) => {
        steps.push('setup');
        defer('first', () => steps.push('undo first'));
        defer('second', () => steps.push('undo second'));
        return { n: 2 };
      },
      run: async (ctx) => {
        steps.push('run');
        return ctx.n * 21;
      },
      report: (r) => {
        steps.push('report');
        return [{ figure: 'answer', value: r, unit: '', target: '42', met: r === 42 }];
      },
    });
    const { value, out } = await captured(() => runScenario(s));
    assert.deepEqual(steps, ['setup', 'run', 'report', 'undo second', 'undo first']);
    assert.equal(value?.[0]?.value, 42);
    const line = out.find((l) => l.startsWith('BENCH_FIGURES '));
    assert.ok(line, out.join('\n'));
    assert.deepEqual(JSON.parse(line.slice('BENCH_FIGURES '.length)), { bench: 'unit.ok', figures: value });
  });

  it('a step that throws still runs every clean-up registered so far, and a failing clean-up does not stop the others', async () => {
    const steps: string[] = [];
    const s = scenario({
      name: 'unit.fails',
      about: 'test',
      setup: async (defer) => {
        defer('first', () => steps.push('undo first'));
        defer('broken', () => {
          throw new Error('cannot undo');
        });
        defer('third', () => steps.push('undo third'));
        return {};
      },
      run: async () => {
        throw new Error('measurement failed');
      },
      report: () => [],
    });
    const { error, out } = await captured(() => runScenario(s));
    assert.match(String(error), /measurement failed/);
    assert.deepEqual(steps, ['undo third', 'undo first']);
    assert.ok(
      out.some((l) => /unit\.fails: broken failed: Error: cannot undo/.test(l)),
      out.join('\n'),
    );
    assert.ok(!out.some((l) => l.startsWith('BENCH_FIGURES ')));
  });
});
