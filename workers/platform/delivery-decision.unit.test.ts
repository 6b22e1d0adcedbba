/** What a callback attempt leads to (workers/platform/delivery-decision.ts), without services. */
import assert from 'node:assert/strict';
import type { AttemptResult } from '../../platform/outbound-http.js';
import { decideDelivery, MAX_RETRY_AFTER_MS, retryable } from './delivery-decision.js';

const schedule = [0, 10_000, 60_000, 600_000];
const mid = () => 0.5; // no jitter
const http = (statusCode: number, retryAfterMs: number | null = null): AttemptResult => ({
  outcome: statusCode < 300 ? 'success' : 'http_error',
  statusCode,
  responseBody: '',
  truncated: false,
  retryAfterMs,
  durationMs: 12,
});
const failed = (outcome: 'network_error' | 'timeout' | 'refused'): AttemptResult => ({ outcome, error: 'e', durationMs: 5 });
const attempt = (attemptNo: number, o: { allowed?: number; prior?: number; fromDead?: boolean } = {}) => ({
  attemptNo,
  n: (o.prior ?? 0) + attemptNo,
  allowed: o.allowed ?? schedule.length,
  fromDead: o.fromDead ?? false,
});

describe('delivery decision', () => {
  it('a 2xx delivers (from a dead letter retried on the dashboard too)', () => {
    assert.deepEqual(decideDelivery(http(200), attempt(1), schedule, mid), { transition: 'deliver' });
    assert.deepEqual(decideDelivery(http(204), attempt(5, { allowed: 4, fromDead: true }), schedule, mid), {
      transition: 'deliverFromDead',
    });
  });

  it('retries the network, timeouts, 408, 429 and 5xx; not other refusals', () => {
    for (const r of [failed('network_error'), failed('timeout'), http(408), http(429), http(500), http(503)]) assert.ok(retryable(r));
    for (const r of [failed('refused'), http(400), http(401), http(404), http(410), http(302)]) assert.ok(!retryable(r));
  });

  it('a retryable failure with attempts left waits the schedule entry of the next attempt', () => {
    assert.deepEqual(decideDelivery(failed('timeout'), attempt(1), schedule, mid), { transition: 'retry', delayMs: 10_000 });
    assert.deepEqual(decideDelivery(http(502), attempt(2), schedule, mid), { transition: 'retry', delayMs: 60_000 });
    assert.deepEqual(decideDelivery(http(502), attempt(3), schedule, mid), { transition: 'retry', delayMs: 600_000 });
  });

  it('the last schedule entry repeats when a job may make more attempts than it has entries', () => {
    assert.deepEqual(decideDelivery(http(500), attempt(6, { allowed: 8 }), schedule, mid), { transition: 'retry', delayMs: 600_000 });
  });

  it('jitters the scheduled delay by ±5%', () => {
    assert.equal((decideDelivery(http(500), attempt(1), schedule, () => 0) as { delayMs: number }).delayMs, 9_500);
    assert.equal((decideDelivery(http(500), attempt(1), schedule, () => 0.999999) as { delayMs: number }).delayMs, 10_500);
  });

  it('honours a longer Retry-After, capped at a day; a shorter one does not shorten the schedule', () => {
    assert.deepEqual(decideDelivery(http(429, 120_000), attempt(1), schedule, mid), { transition: 'retry', delayMs: 120_000 });
    assert.deepEqual(decideDelivery(http(503, 1_000), attempt(2), schedule, mid), { transition: 'retry', delayMs: 60_000 });
    assert.deepEqual(decideDelivery(http(503, 10 * MAX_RETRY_AFTER_MS), attempt(1), schedule, mid), {
      transition: 'retry',
      delayMs: MAX_RETRY_AFTER_MS,
    });
  });

  it('dead-letters a permanent refusal at once, naming it', () => {
    assert.deepEqual(decideDelivery(http(404), attempt(1), schedule, mid), {
      transition: 'deadLetter',
      reason: 'http_error 404: not retryable',
    });
    assert.deepEqual(decideDelivery(failed('refused'), attempt(2), schedule, mid), {
      transition: 'deadLetter',
      reason: 'refused: not retryable',
    });
  });

  it("dead-letters when the retries are used up, counting the delivery's attempts (replays included)", () => {
    assert.deepEqual(decideDelivery(http(500), attempt(4, { prior: 4 }), schedule, mid), {
      transition: 'deadLetter',
      reason: 'retries exhausted after 8 attempts (last: http_error 500)',
    });
    assert.deepEqual(decideDelivery(failed('timeout'), attempt(4), schedule, mid), {
      transition: 'deadLetter',
      reason: 'retries exhausted after 4 attempts (last: timeout)',
    });
  });

  it('a dead letter retried on the dashboard that fails again stays dead, without another retry', () => {
    assert.deepEqual(decideDelivery(http(503), attempt(5, { allowed: 4, fromDead: true }), schedule, mid), {
      transition: 'failFromDead',
      reason: 'retries exhausted after 5 attempts (last: http_error 503)',
    });
    assert.deepEqual(decideDelivery(http(400), attempt(5, { allowed: 4, fromDead: true }), schedule, mid), {
      transition: 'failFromDead',
      reason: 'http_error 400: not retryable',
    });
  });
});
