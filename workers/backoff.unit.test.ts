/** The retry delays BullMQ asks workers/backoff.ts for, without services. */
import assert from 'node:assert/strict';
import type { Config } from '../platform/config.js';
import { SCHEDULE_BACKOFF } from '../queues/catalogue.js';
import { backoffStrategy } from './backoff.js';

const schedule = [1_000, 5_000, 30_000];
const backoff = backoffStrategy({ callbackRetryScheduleMs: schedule } as Config);

describe('backoff strategy', () => {
  it('uses the delay the processor carried on its error (schedule, jitter and Retry-After already applied)', () => {
    assert.equal(backoff(1, SCHEDULE_BACKOFF, Object.assign(new Error('x'), { delayMs: 4321 })), 4321);
    assert.equal(backoff(7, 'exponential', Object.assign(new Error('x'), { delayMs: 0 })), 0);
  });

  it('falls back to the retry schedule for scheduled jobs, its last entry repeating', () => {
    assert.equal(backoff(0, SCHEDULE_BACKOFF), 1_000);
    assert.equal(backoff(1, SCHEDULE_BACKOFF), 5_000);
    assert.equal(backoff(2, SCHEDULE_BACKOFF, new Error('no delay carried')), 30_000);
    assert.equal(backoff(9, SCHEDULE_BACKOFF), 30_000);
    assert.equal(backoffStrategy({ callbackRetryScheduleMs: [] as number[] } as Config)(3, SCHEDULE_BACKOFF), 1000);
  });

  it('ignores a carried delay that is not a non-negative number', () => {
    assert.equal(backoff(1, SCHEDULE_BACKOFF, Object.assign(new Error('x'), { delayMs: -1 })), 5_000);
    assert.equal(backoff(1, SCHEDULE_BACKOFF, Object.assign(new Error('x'), { delayMs: '5' })), 5_000);
  });

  it('gives any other job exponential delays from 1 s with ±20% jitter, capped at 5 min', () => {
    for (let i = 0; i < 50; i++) {
      for (const [made, base] of [
        [0, 1_000],
        [1, 1_000],
        [2, 2_000],
        [4, 8_000],
        [30, 300_000],
      ] as const) {
        const d = backoff(made, 'exponential');
        assert.ok(d >= base * 0.8 && d <= base * 1.2, `attempt ${made}: ${d} within ±20% of ${base}`);
      }
    }
  });
});
