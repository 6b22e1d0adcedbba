/**
 * The rules of an answer, with the request they apply to (pure: no I/O). The device's signature
 * over the answer is checked by the API before these run; these decide what the answer means.
 *   - a security alert takes no answer;
 *   - goldenNumber: an approval carries one of the offered numbers; when the tenant gave the expected
 *     one, a wrong pick counts as a denial (reason number_mismatch);
 *   - totp: an approval carries the 6–8 digit code the device shows;
 *   - a denial is a denial (reason user_denied).
 * (After privacyIDEA push, Auth0 Guardian, Duo; NIST 800-63B, OWASP ASVS 6.6.)
 */
import { randomInt } from 'node:crypto';
import { DomainError } from '../../platform/errors.js';
import type { RequestKind, RequestStatus } from './approval-request.js';

/**
 * Number matching for a goldenNumber request the tenant gave no numbers for (a sudo dispatch): three
 * distinct two-digit numbers in random order and, among them, the one the tenant's page shows and
 * the person must pick (the relay checks it: a wrong pick is a denial). From the CSPRNG, never from
 * the caller, so a person approving blindly has one chance in three.
 */
export function numberMatching(): { numbers: number[]; expected: number } {
  const numbers: number[] = [];
  while (numbers.length < 3) {
    const n = 10 + randomInt(90);
    if (!numbers.includes(n)) numbers.push(n);
  }
  return { numbers, expected: numbers[randomInt(numbers.length)] as number };
}

export type AnswerInput = { decision: 'approve' | 'deny'; answer: string | null };
export type AnswerEffect = { effect: 'approve' | 'deny'; numberMatched: boolean | null; reason: string | null };

const invalid = (detail: string) => new DomainError('VALIDATION_FAILED', 'The request body failed validation.', [detail]);

export function judgeAnswer(
  r: { kind: RequestKind; content: Record<string, unknown>; expected_number: string | null },
  a: AnswerInput,
): AnswerEffect {
  if (r.kind === 'security-alert') throw new DomainError('CONFLICT', 'A security alert takes no answer.');
  if (a.decision === 'deny') return { effect: 'deny', numberMatched: null, reason: 'user_denied' };
  const c = r.content as { custom_type?: string; numbers?: number[] | null };
  if (c.custom_type === 'goldenNumber') {
    if (!a.answer || !(c.numbers ?? []).map(String).includes(a.answer)) throw invalid('answer: must be one of the offered numbers');
    if (r.expected_number != null) {
      const matched = a.answer === r.expected_number;
      return matched
        ? { effect: 'approve', numberMatched: true, reason: null }
        : { effect: 'deny', numberMatched: false, reason: 'number_mismatch' };
    }
  }
  if (c.custom_type === 'totp' && !/^\d{6,8}$/.test(a.answer ?? '')) throw invalid('answer: must be the 6–8 digit code');
  return { effect: 'approve', numberMatched: null, reason: null };
}

/** Why a request no longer takes answers: 410 once expired, 409 once decided otherwise. */
export function closedError(status: RequestStatus | 'expired-pending'): DomainError {
  return status === 'expired' || status === 'expired-pending'
    ? new DomainError('EXPIRED', 'This request has expired.')
    : new DomainError('ALREADY_RESOLVED', `This request was already ${status}.`);
}

/**
 * The quorum rule (the same rule platform/lua/approval-answer.lua applies atomically on each answer;
 * its decision tests and approval-rules.unit.test.ts run the same cases, approval-quorum.cases.ts):
 * with `people` participants, one answer each,
 *   approved  once `threshold` of them approved;
 *   denied    at the first denial when deny-first, else once fewer than `threshold` could still approve;
 *   null      still pending.
 * Approval is checked first: the answer that completes the quorum approves even under deny-first.
 */
export function decideQuorum(q: {
  people: number;
  threshold: number;
  denyFirst: boolean;
  approvals: number;
  denials: number;
}): 'approved' | 'denied' | null {
  if (q.approvals >= q.threshold) return 'approved';
  if (q.denials > 0 && q.denyFirst) return 'denied';
  if (q.people - q.denials < q.threshold) return 'denied';
  return null;
}
