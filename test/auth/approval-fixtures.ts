/**
 * A live approval request for the Redis-side tests (test/platform/lua-scripts-auth.test.ts and the
 * approval machine's walking test): `people` people, person i answering from device(i) (person 0
 * also from `${id}_dev0b`), and an answer record as the API would build it.
 */
import { randomBytes } from 'node:crypto';
import { personKey, type AnswerRecord, type ApprovalState } from '../../models/auth/approval-state.js';

export const TENANT = 'tnt_luatest';
const uid = () => randomBytes(5).toString('hex');

/** A pending request for `people` people, person i answering from device `dev{i}` (person 0 also from `dev0b`). */
export function newApproval(o: {
  people: number;
  threshold: number;
  denyFirst?: boolean;
  expiresInMs?: number;
  status?: ApprovalState['status'];
}) {
  const id = `apr_${uid()}`;
  const now = Date.now();
  const participants = Array.from({ length: o.people }, (_, i) => ({
    person: personKey(TENANT, `link${i}`),
    tenant_id: TENANT,
    relay_user_linked_id: `link${i}`,
    device_ids: i === 0 ? [`${id}_dev0`, `${id}_dev0b`] : [`${id}_dev${i}`],
  }));
  const s: ApprovalState = {
    _id: id,
    tenant_id: TENANT,
    kind: 'auth-challenge',
    status: o.status ?? 'pending',
    instruction_id: id,
    pairing_id: 'pair_x',
    user_socket_hash: 'ush_x',
    relay_user_linked_id: 'link0',
    content: { custom_type: 'localAuth' },
    expected_number: null,
    device_ids: participants.flatMap((p) => p.device_ids),
    participants,
    threshold: o.threshold,
    deny_on_first_denial: o.denyFirst ?? false,
    approval_event: false,
    created_at: new Date(now),
    expires_at: new Date(now + (o.expiresInMs ?? 60_000)),
    decided_at: null,
    answers: [],
    finalized: false,
  };
  const device = (i: number) => `${id}_dev${i}`;
  return { s, device };
}

export function answerOf(s: ApprovalState, deviceId: string, effect: 'approve' | 'deny'): AnswerRecord {
  const p = s.participants.find((x) => x.device_ids.includes(deviceId));
  return {
    person: p?.person ?? 'nobody',
    relay_user_linked_id: p?.relay_user_linked_id ?? '',
    tenant_id: TENANT,
    device_id: deviceId,
    decision: effect,
    effect,
    answer: null,
    number_matched: null,
    reason: effect === 'deny' ? 'user_denied' : null,
    device_signature: 'sig',
    signed_at_ms: Date.now(),
    at: new Date().toISOString(),
  };
}
