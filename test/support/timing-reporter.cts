/**
 * Mocha's spec reporter, plus the time each test file took, its hooks included (a file's top-level
 * suites, from their start to their end). With TEST_DURATIONS_OUT set, the times are written there
 * at the end of the run as JSON ({ "test/x.test.ts": seconds }): scripts/test.sh splits the test
 * files into lanes of about equal time by them (scripts/test-lanes.ts). CommonJS (.cts) because
 * mocha loads a reporter with require().
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- CommonJS, for mocha's require()
import fs = require('node:fs');
// eslint-disable-next-line @typescript-eslint/no-require-imports
import path = require('node:path');
// eslint-disable-next-line @typescript-eslint/no-require-imports
import Mocha = require('mocha');

const { EVENT_SUITE_BEGIN, EVENT_SUITE_END, EVENT_RUN_END } = Mocha.Runner.constants;

class TimingReporter extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    const started = new Map<Mocha.Suite, number>();
    const seconds: Record<string, number> = {};
    runner.on(EVENT_SUITE_BEGIN, (suite: Mocha.Suite) => {
      if (suite.file && suite.parent?.root) started.set(suite, performance.now());
    });
    runner.on(EVENT_SUITE_END, (suite: Mocha.Suite) => {
      const t0 = started.get(suite);
      if (t0 === undefined || !suite.file) return;
      const file = path.relative(process.cwd(), suite.file);
      seconds[file] = Math.round(((seconds[file] ?? 0) + (performance.now() - t0) / 1000) * 10) / 10;
    });
    runner.once(EVENT_RUN_END, () => {
      const out = process.env.TEST_DURATIONS_OUT;
      if (out) fs.writeFileSync(out, `${JSON.stringify(seconds, null, 2)}\n`);
    });
  }
}

export = TimingReporter;
