/**
 * The quorum cases both the pure rule's unit test (approval-rules.unit.test.ts) and the Lua
 * script's decision test (test/platform/lua-scripts-auth.test.ts) run, so the two agree: each is a
 * request's people, threshold and deny-first flag, the answers in order (one per person), and the
 * status after each answer (null: still pending; an answer after a decision is refused, so a case
 * stops at its decision).
 */
export type QuorumCase = {
  name: string;
  people: number;
  threshold: number;
  denyFirst: boolean;
  answers: ('approve' | 'deny')[];
  after: ('approved' | 'denied' | null)[];
};

export const QUORUM_CASES: readonly QuorumCase[] = [
  { name: '1 of 1 approves', people: 1, threshold: 1, denyFirst: false, answers: ['approve'], after: ['approved'] },
  { name: '1 of 1 denies', people: 1, threshold: 1, denyFirst: false, answers: ['deny'], after: ['denied'] },
  {
    name: '2 of 3: approve, approve',
    people: 3,
    threshold: 2,
    denyFirst: false,
    answers: ['approve', 'approve'],
    after: [null, 'approved'],
  },
  {
    name: '2 of 3: deny, approve, approve (a denial does not end it while 2 can approve)',
    people: 3,
    threshold: 2,
    denyFirst: false,
    answers: ['deny', 'approve', 'approve'],
    after: [null, null, 'approved'],
  },
  {
    name: '2 of 3: deny, deny (the quorum is out of reach)',
    people: 3,
    threshold: 2,
    denyFirst: false,
    answers: ['deny', 'deny'],
    after: [null, 'denied'],
  },
  {
    name: '2 of 3 deny-first: the first denial ends it',
    people: 3,
    threshold: 2,
    denyFirst: true,
    answers: ['approve', 'deny'],
    after: [null, 'denied'],
  },
  { name: '2 of 3 deny-first: a denial first', people: 3, threshold: 2, denyFirst: true, answers: ['deny'], after: ['denied'] },
  {
    name: '3 of 3: one denial is enough to deny',
    people: 3,
    threshold: 3,
    denyFirst: false,
    answers: ['approve', 'deny'],
    after: [null, 'denied'],
  },
  {
    name: '1 of 2: a denial waits for the other',
    people: 2,
    threshold: 1,
    denyFirst: false,
    answers: ['deny', 'approve'],
    after: [null, 'approved'],
  },
];
