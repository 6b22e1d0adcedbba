/**
 * argon2 work is bounded (issue 20, "argon2 on the libuv pool without a concurrency bound"): a burst
 * of password checks beyond the running slots and the waiting queue is refused at once with
 * RATE_LIMITED (the console answers 429 with Retry-After) instead of piling up on libuv's pool.
 */
import assert from 'node:assert/strict';
import { DomainError } from '../../platform/errors.js';
import { PASSWORD_WORK_CONCURRENCY, PASSWORD_WORK_QUEUE, hashPassword, verifyOrBurn } from '../../platform/passwords.js';

describe('platform: bounded password hashing', function () {
  this.timeout(120_000);

  it('a burst past the running slots and the queue is refused at once; the rest is answered correctly', async () => {
    const hash = await hashPassword('correct horse battery staple');
    const extra = 25;
    const burst = PASSWORD_WORK_CONCURRENCY + PASSWORD_WORK_QUEUE + extra;
    const results = await Promise.allSettled(
      Array.from({ length: burst }, (_, i) =>
        verifyOrBurn(i % 2 ? null : hash, i === 0 ? 'correct horse battery staple' : 'wrong password'),
      ),
    );
    const refused = results.filter((r) => r.status === 'rejected');
    assert.equal(refused.length, extra, `${refused.length} of ${burst} refused; ${burst - extra} fit the slots and the queue`);
    for (const r of refused) {
      const err = (r as PromiseRejectedResult).reason as DomainError;
      assert.ok(err instanceof DomainError && err.code === 'RATE_LIMITED' && err.retryAfterS === 1, String(err));
    }
    const answers = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    assert.deepEqual(answers, [true, ...Array<boolean>(answers.length - 1).fill(false)], 'only the right password matched');
    assert.ok(
      results.slice(0, burst - extra).every((r) => r.status === 'fulfilled'),
      'the first ones in were the ones served',
    );
    // Every slot came back: a later check runs.
    assert.equal(await verifyOrBurn(hash, 'correct horse battery staple'), true);
  });
});
