/**
 * The benchmarks' scenario runner. A scenario is a named measurement in three steps: `setup` starts
 * what it measures (processes, tenants, data) and registers how to undo each thing with `defer`,
 * `run` produces the measurements, `report` prints its table and returns the figures that
 * `npm run bench` (scripts/bench/index.ts) collects. Whatever happens, the deferred clean-ups run, in
 * reverse order, once the scenario ends.
 *
 * The areas (signed.ts, delivery.ts, push.ts, chat.ts, replay.ts, sudo.ts) each export their
 * scenarios; scripts/bench/scenarios.ts lists them all.
 */
import { reportFigures, type Figure } from './common.js';

/** Registers a clean-up step of a scenario's setup (run in reverse order when the scenario ends). */
export type Defer = (what: string, undo: () => unknown) => void;

export type Scenario<Ctx = unknown, Result = unknown> = {
  /** `area.what`, e.g. `delivery.throughput`: what `npm run bench -- <name>` takes. */
  name: string;
  /** One line: what it measures. */
  about: string;
  setup: (defer: Defer) => Promise<Ctx>;
  run: (ctx: Ctx) => Promise<Result>;
  /** Prints the scenario's own table and returns its figures. */
  report: (result: Result, ctx: Ctx) => Figure[] | Promise<Figure[]>;
};

/** Declares a scenario (typed end to end: setup's context feeds run, run's result feeds report). */
export function scenario<Ctx, Result>(s: Scenario<Ctx, Result>): Scenario {
  return s as unknown as Scenario;
}

/**
 * Runs one scenario in this process: setup, run, report, then its clean-ups. Prints the figures as
 * the `BENCH_FIGURES {…}` line that scripts/bench/index.ts reads, and returns them.
 */
export async function runScenario(s: Scenario): Promise<Figure[]> {
  const undo: { what: string; fn: () => unknown }[] = [];
  try {
    const ctx = await s.setup((what, fn) => undo.push({ what, fn }));
    const result = await s.run(ctx);
    const figures = await s.report(result, ctx);
    reportFigures(s.name, figures);
    return figures;
  } finally {
    for (const u of undo.reverse()) {
      try {
        await u.fn();
      } catch (err) {
        console.error(`bench: ${s.name}: ${u.what} failed: ${String(err)}`);
      }
    }
  }
}
