/**
 * CI's mocha lanes (scripts/test-lanes.ts): every test file runs in exactly one lane, and the lanes
 * take about equal time by the times measured last.
 */
import assert from 'node:assert/strict';
import { splitLanes, testFiles } from '../../scripts/test-lanes.js';

describe('test lanes: the test files split by their last times', () => {
  it('every test file is in exactly one lane, this one too', () => {
    const files = testFiles();
    assert.ok(files.includes('test/platform/test-lanes.test.ts'), files.join(' '));
    for (const lanes of [1, 2, 3, 5]) {
      const split = splitLanes(files, {}, lanes);
      assert.equal(split.length, Math.min(lanes, files.length));
      assert.deepEqual(split.flat().sort(), files);
    }
  });

  it('lanes take about equal time (greedy, longest first), a file without a time counting as the median', () => {
    const times = { a: 60, b: 50, c: 40, d: 30, e: 20 };
    const split = splitLanes(['a', 'b', 'c', 'd', 'e', 'new'], times, 2);
    const cost = (lane: string[]) => lane.reduce((s, f) => s + (times[f as keyof typeof times] ?? 40), 0);
    assert.deepEqual(split.map(cost).sort(), [120, 120]);
    assert.deepEqual(split, [
      ['a', 'e', 'new'],
      ['b', 'c', 'd'],
    ]);
  });
});
