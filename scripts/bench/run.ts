/**
 * Runs benchmark scenarios in this process, one after the other, each printing its own table and its
 * `BENCH_FIGURES {…}` line. What the `bench:*` npm scripts run, and what `npm run bench`
 * (scripts/bench/index.ts) starts once per scenario and appendfsync setting:
 *
 *   bash scripts/with-services.sh npx tsx scripts/bench/run.ts <scenario or area>… [--flags of the scenario]
 *
 * Exits non-zero when a scenario failed.
 */
import { runScenario, type Scenario } from './scenario.js';
import { SCENARIOS, selectScenarios } from './scenarios.js';

// Scenario names are the words; a scenario's own flags (push: --rate 200) and their values are not.
const names = process.argv.slice(2).filter((a) => /^[a-z]/i.test(a));
if (!names.length) {
  console.error(`usage: run.ts <scenario or area>…; scenarios:\n${SCENARIOS.map((s) => `  ${s.name}: ${s.about}`).join('\n')}`);
  process.exit(2);
}
let selected: Scenario[];
try {
  selected = selectScenarios(names);
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(2);
}
let failed = 0;
for (const s of selected) {
  try {
    await runScenario(s);
  } catch (err) {
    failed++;
    console.error(`bench ${s.name} failed: ${err instanceof Error ? err.stack : String(err)}`, (err as { cause?: unknown }).cause ?? '');
  }
}
// Exit explicitly: clients and pools a scenario opened may still hold the event loop.
process.exit(failed ? 1 : 0);
