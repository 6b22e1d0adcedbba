/** The approval request's pure rules, without services: the quorum (the same cases as the Lua test) and the answer's meaning. */
import assert from 'node:assert/strict';
import { DomainError } from '../../platform/errors.js';
import { QUORUM_CASES } from './approval-quorum.cases.js';
import { decideQuorum, judgeAnswer, numberMatching } from './approval-rules.js';

describe('approval rules', () => {
  describe('decideQuorum', () => {
    for (const c of QUORUM_CASES)
      it(c.name, () => {
        let approvals = 0;
        let denials = 0;
        c.answers.forEach((a, i) => {
          if (a === 'approve') approvals++;
          else denials++;
          assert.equal(
            decideQuorum({ people: c.people, threshold: c.threshold, denyFirst: c.denyFirst, approvals, denials }),
            c.after[i],
            `after answer ${i + 1}`,
          );
        });
      });
  });

  describe('judgeAnswer', () => {
    const golden = {
      kind: 'auth-challenge' as const,
      content: { custom_type: 'goldenNumber', numbers: [12, 34, 56] },
      expected_number: '34',
    };
    it('a denial is a denial', () => {
      assert.deepEqual(judgeAnswer(golden, { decision: 'deny', answer: null }), {
        effect: 'deny',
        numberMatched: null,
        reason: 'user_denied',
      });
    });
    it('number matching: the right pick approves, a wrong one denies, one not offered is invalid', () => {
      assert.deepEqual(judgeAnswer(golden, { decision: 'approve', answer: '34' }), {
        effect: 'approve',
        numberMatched: true,
        reason: null,
      });
      assert.deepEqual(judgeAnswer(golden, { decision: 'approve', answer: '12' }), {
        effect: 'deny',
        numberMatched: false,
        reason: 'number_mismatch',
      });
      assert.throws(
        () => judgeAnswer(golden, { decision: 'approve', answer: '99' }),
        (e: unknown) => e instanceof DomainError && e.code === 'VALIDATION_FAILED',
      );
    });
    it('totp needs a 6–8 digit code; a security alert takes no answer', () => {
      const totp = { kind: 'auth-challenge' as const, content: { custom_type: 'totp' }, expected_number: null };
      assert.equal(judgeAnswer(totp, { decision: 'approve', answer: '123456' }).effect, 'approve');
      assert.throws(() => judgeAnswer(totp, { decision: 'approve', answer: '12a' }));
      const alert = { kind: 'security-alert' as const, content: {}, expected_number: null };
      assert.throws(
        () => judgeAnswer(alert, { decision: 'approve', answer: null }),
        (e: unknown) => e instanceof DomainError && e.code === 'CONFLICT',
      );
    });
  });

  it('numberMatching: three distinct two-digit numbers, the expected one among them', () => {
    for (let i = 0; i < 50; i++) {
      const { numbers, expected } = numberMatching();
      assert.equal(new Set(numbers).size, 3);
      for (const n of numbers) assert.ok(n >= 10 && n <= 99);
      assert.ok(numbers.includes(expected));
    }
  });
});
