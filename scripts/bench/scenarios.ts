/**
 * Every benchmark scenario, in the order `npm run bench` runs them, and the selection of some by name:
 * a scenario's full name (`delivery.throughput`) or its area (`delivery`: all of the area's).
 */
import { scenarios as chat } from './chat.js';
import { scenarios as delivery } from './delivery.js';
import { scenarios as push } from './push.js';
import { scenarios as replay } from './replay.js';
import type { Scenario } from './scenario.js';
import { scenarios as signed } from './signed.js';
import { scenarios as sudo } from './sudo.js';

export const SCENARIOS: Scenario[] = [...signed, ...delivery, ...push, ...chat, ...replay, ...sudo];

/** The names `npm run bench` took before the scenarios (scripts/bench.ts), still accepted. */
const ALIASES: Record<string, string> = { start: 'signed.start' };

/** The scenarios the names select, each once, in catalogue order; all of them for no names. Throws on an unknown name. */
export function selectScenarios(names: string[]): Scenario[] {
  if (!names.length) return SCENARIOS;
  const picked = new Set<Scenario>();
  for (const raw of names) {
    const n = ALIASES[raw] ?? raw;
    const hits = SCENARIOS.filter((s) => s.name === n || s.name.startsWith(`${n}.`));
    if (!hits.length) throw new Error(`unknown bench scenario ${raw}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
    for (const s of hits) picked.add(s);
  }
  return SCENARIOS.filter((s) => picked.has(s));
}
