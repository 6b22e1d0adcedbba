/**
 * The live approval request: one Redis hash per request, the hot state every request path reads and
 * the one place an answer is decided. MongoDB (approval-request.ts) is its durable history, written by
 * the workers. The hash holds everything the history needs, so a worker builds the document from it.
 *
 * Keys (platform/keys.ts), all tagged with the tenant so one script stays on one cluster slot:
 *   approval hash        the request, its participants and one field `a:{person}` per answer;
 *   instruction key      instruction_id → request id while the request is live (a reuse is refused);
 *   device open set      per device, the ids of requests addressed to it, scored by their expiry
 *                        (what GET /device/requests reads instead of scanning MongoDB).
 *
 * Its states and who moves them: approval-machine.ts.
 * The decision is one Lua script: the answer is recorded only if the request is still pending,
 * unexpired, addressed to this device and not yet answered by this person; the same script counts
 * the answers against the threshold and moves the status at most once. So two answers arriving at
 * the same instant on two API processes cannot both decide, and an answer racing the expiry ends in
 * exactly one of the two states.
 */
import type { Redis } from 'ioredis';
import { redisKey } from '../../platform/keys.js';
import { defineScript, type ScriptArg } from '../../platform/redis-scripts.js';
import { IllegalTransition } from '../../platform/state-machine.js';
import { approvalMachine, assertApprovalActor, type ApprovalActor, type ApprovalTransition } from './approval-machine.js';
import type { RequestKind, RequestStatus } from './approval-request.js';

/** A hash outlives its request by a day, so status reads after the end stay on Redis. */
export const STATE_GRACE_MS = 86_400_000;

export type Participant = { person: string; tenant_id: string; relay_user_linked_id: string; device_ids: string[] };

/** A person asked to approve, with the devices the request goes to (of their own tenant). */
export type NewParticipant = {
  tenantId: string;
  relayUserLinkedId: string;
  userSocketHash: string;
  devices: { _id: string; fcm_token?: string | null }[];
};

export type AnswerRecord = {
  person: string;
  relay_user_linked_id: string;
  tenant_id: string;
  device_id: string;
  decision: 'approve' | 'deny';
  effect: 'approve' | 'deny';
  answer: string | null;
  number_matched: boolean | null;
  reason: string | null;
  device_signature: string;
  signed_at_ms: number;
  /** The hash of what the device showed and signed (sudo: title, fields, data). */
  display_hash?: string | null;
  at: string;
};

export type ApprovalState = {
  _id: string;
  tenant_id: string;
  kind: RequestKind;
  status: RequestStatus;
  instruction_id: string;
  pairing_id: string;
  user_socket_hash: string;
  relay_user_linked_id: string;
  content: Record<string, unknown>;
  expected_number: string | null;
  device_ids: string[];
  participants: Participant[];
  threshold: number;
  deny_on_first_denial: boolean;
  approval_event: boolean;
  created_at: Date;
  expires_at: Date;
  decided_at: Date | null;
  answers: AnswerRecord[];
  /** The final state was written to MongoDB and its callbacks emitted. */
  finalized: boolean;
};

/** The participant key of a person: unique across tenants (cross-organisation approvals). */
export const personKey = (tenantId: string, relayUserLinkedId: string) => `${tenantId}/${relayUserLinkedId}`;

// ---- scripts (platform/lua/approval-*.lua; each file's header says its keys, arguments, replies) ----

type Reply = [string, string?, string?];
const CREATE = defineScript<string[], ScriptArg[], number>('approval-create');
const ANSWER = defineScript<
  [hash: string],
  [device: string, answer: string, now: number, from: string, approved: string, denied: string],
  Reply
>('approval-answer');
const END = defineScript<[hash: string], [to: string, now: number, from: string, afterExpiry: '0' | '1'], Reply>('approval-end');
const RESTORE = defineScript<[hash: string], ScriptArg[], number>('approval-restore');

/** A transition's `from` states as a script takes them (space-separated). */
const fromStates = (name: ApprovalTransition) => approvalMachine.get(name).from.join(' ');

// ---- encoding -----------------------------------------------------------------------------------

function toFields(s: ApprovalState): string[] {
  const f: Record<string, string> = {
    tenant_id: s.tenant_id,
    kind: s.kind,
    status: s.status,
    instruction_id: s.instruction_id,
    pairing_id: s.pairing_id,
    user_socket_hash: s.user_socket_hash,
    relay_user_linked_id: s.relay_user_linked_id,
    content: JSON.stringify(s.content),
    expected_number: s.expected_number ?? '',
    device_ids: JSON.stringify(s.device_ids),
    participants: JSON.stringify(s.participants),
    threshold: String(s.threshold),
    deny_first: s.deny_on_first_denial ? '1' : '0',
    approval_event: s.approval_event ? '1' : '0',
    created_at: String(s.created_at.getTime()),
    expires_at: String(s.expires_at.getTime()),
  };
  if (s.decided_at) f.decided_at = String(s.decided_at.getTime());
  for (const a of s.answers) f[`a:${a.person}`] = JSON.stringify(a);
  return Object.entries(f).flat();
}

function fromHash(id: string, h: Record<string, string>): ApprovalState | null {
  if (!h.status || !h.tenant_id) return null;
  const participants = JSON.parse(h.participants ?? '[]') as Participant[];
  return {
    _id: id,
    tenant_id: h.tenant_id,
    kind: h.kind as RequestKind,
    status: h.status as RequestStatus,
    instruction_id: h.instruction_id ?? id,
    pairing_id: h.pairing_id ?? '',
    user_socket_hash: h.user_socket_hash ?? '',
    relay_user_linked_id: h.relay_user_linked_id ?? '',
    content: JSON.parse(h.content ?? '{}') as Record<string, unknown>,
    expected_number: h.expected_number || null,
    device_ids: JSON.parse(h.device_ids ?? '[]') as string[],
    participants,
    threshold: Number(h.threshold ?? 1),
    deny_on_first_denial: h.deny_first === '1',
    approval_event: h.approval_event === '1',
    created_at: new Date(Number(h.created_at)),
    expires_at: new Date(Number(h.expires_at)),
    decided_at: h.decided_at ? new Date(Number(h.decided_at)) : null,
    answers: participants.flatMap((p) => (h[`a:${p.person}`] ? [JSON.parse(h[`a:${p.person}`] as string) as AnswerRecord] : [])),
    finalized: h.finalized === '1',
  };
}

// ---- operations ---------------------------------------------------------------------------------

const hashKey = (prefix: string, tenantId: string, requestId: string) => redisKey.approval(prefix, tenantId, requestId);

/**
 * Writes a new request (and, when it has one, claims its instruction id) and adds it to the open
 * set of each of its devices that belongs to `tenant_id`. False when the instruction id is taken.
 */
export async function createState(redis: Redis, prefix: string, s: ApprovalState, now = Date.now()): Promise<boolean> {
  const key = hashKey(prefix, s.tenant_id, s._id);
  const instruction = s.instruction_id !== s._id ? redisKey.approvalInstruction(prefix, s.tenant_id, s.instruction_id) : key;
  const own = s.participants.filter((p) => p.tenant_id === s.tenant_id).flatMap((p) => p.device_ids);
  const sets = own.map((d) => redisKey.deviceOpenRequests(prefix, s.tenant_id, d));
  const lifetime = s.expires_at.getTime() - now + STATE_GRACE_MS;
  const ok = await CREATE.run(redis, [key, instruction, ...sets], [s._id, lifetime, s.expires_at.getTime(), now, ...toFields(s)]);
  // Devices of other tenants (cross-organisation approvals) are indexed under their own tenant's tag:
  // one MULTI per tenant, since a MULTI stays within one hash slot on Redis Cluster.
  const foreign = s.participants.filter((p) => p.tenant_id !== s.tenant_id);
  if (ok === 1 && foreign.length) {
    await Promise.all(
      [...byTenant(foreign)].map(([tenantId, ps]) => {
        const multi = redis.multi();
        for (const p of ps)
          for (const d of p.device_ids)
            multi.zadd(redisKey.deviceOpenRequests(prefix, tenantId, d), s.expires_at.getTime(), `${s.tenant_id}:${s._id}`);
        return multi.exec();
      }),
    );
  }
  return ok === 1;
}

/** Puts back a request read from MongoDB (Redis lost it), unless a hash exists meanwhile. */
export async function restoreState(redis: Redis, prefix: string, s: ApprovalState): Promise<void> {
  const key = hashKey(prefix, s.tenant_id, s._id);
  const lifetime = Math.max(60_000, s.expires_at.getTime() - Date.now() + STATE_GRACE_MS);
  // (From MongoDB: its jobs ran, so it is marked queued.)
  await RESTORE.run(redis, [key], [lifetime, ...toFields(s), ENQUEUED, '1', ...(s.finalized ? ['finalized', '1'] : [])]);
}

/** The hash field set once a request's jobs are queued (approval-flow.ts createRequest). */
const ENQUEUED = 'enqueued';

/** Marks that the request's jobs are queued: from then on, a resend of its instruction id is a duplicate. */
export async function markEnqueued(redis: Redis, prefix: string, tenantId: string, requestId: string): Promise<void> {
  await redis.hset(hashKey(prefix, tenantId, requestId), ENQUEUED, '1');
}

/**
 * The live request holding `instructionId` when its jobs were never queued: its first try stopped
 * between writing the request and queueing its jobs (answered 503, or its API process died), so a
 * resend may complete it. Null when none holds it, or its jobs are queued.
 */
export async function unqueuedHolder(redis: Redis, prefix: string, tenantId: string, instructionId: string): Promise<ApprovalState | null> {
  const id = await requestIdOfInstruction(redis, prefix, tenantId, instructionId);
  if (!id) return null;
  const h = await redis.hgetall(hashKey(prefix, tenantId, id));
  return h[ENQUEUED] === '1' ? null : fromHash(id, h);
}

export async function readState(redis: Redis, prefix: string, tenantId: string, requestId: string): Promise<ApprovalState | null> {
  return fromHash(requestId, await redis.hgetall(hashKey(prefix, tenantId, requestId)));
}

export async function requestIdOfInstruction(
  redis: Redis,
  prefix: string,
  tenantId: string,
  instructionId: string,
): Promise<string | null> {
  return redis.get(redisKey.approvalInstruction(prefix, tenantId, instructionId));
}

export type AnswerVerdict =
  | { kind: 'decided'; status: 'approved' | 'denied' }
  | { kind: 'recorded'; approvals: number; denials: number }
  | { kind: 'final'; status: RequestStatus }
  | { kind: 'expired' }
  | { kind: 'duplicate' }
  | { kind: 'not_participant' }
  | { kind: 'missing' };

export async function recordAnswer(
  redis: Redis,
  prefix: string,
  tenantId: string,
  requestId: string,
  deviceId: string,
  answer: AnswerRecord,
  now = Date.now(),
): Promise<AnswerVerdict> {
  // approve and deny leave the same states (the table says which); the quorum decides which is made.
  const [v, a, b] = await ANSWER.run(
    redis,
    [hashKey(prefix, tenantId, requestId)],
    [deviceId, JSON.stringify(answer), now, fromStates('approve'), approvalMachine.get('approve').to, approvalMachine.get('deny').to],
  );
  switch (v) {
    case 'DECIDED':
      return { kind: 'decided', status: a as 'approved' | 'denied' };
    case 'RECORDED':
      return { kind: 'recorded', approvals: Number(a), denials: Number(b) };
    case 'FINAL':
      return { kind: 'final', status: a as RequestStatus };
    case 'EXPIRED':
      return { kind: 'expired' };
    case 'DUPLICATE':
      return { kind: 'duplicate' };
    case 'NOT_PARTICIPANT':
      return { kind: 'not_participant' };
    default:
      return { kind: 'missing' };
  }
}

export type EndVerdict = { kind: 'decided' } | { kind: 'final'; status: RequestStatus } | { kind: 'early' } | { kind: 'missing' };

/** The transitions that end a request without an answer (approval-machine.ts). */
export type EndTransition = Extract<ApprovalTransition, 'expire' | 'cancel'>;
const ENDINGS: readonly ApprovalTransition[] = ['expire', 'cancel'];

/**
 * Ends a pending request by `name`: `expire` (the expiry job, only once the expiry has passed) or
 * `cancel` (the tenant). Throws IllegalTransition when `by` may not make it.
 */
export async function endState(
  redis: Redis,
  prefix: string,
  tenantId: string,
  requestId: string,
  name: EndTransition,
  by: ApprovalActor,
  now = Date.now(),
): Promise<EndVerdict> {
  // Approve and deny are made by answers (recordAnswer), never by fiat.
  if (!ENDINGS.includes(name)) throw new IllegalTransition(approvalMachine.name, name, '-', 'actor');
  assertApprovalActor(name, by);
  const t = approvalMachine.get(name);
  const [v, a] = await END.run(redis, [hashKey(prefix, tenantId, requestId)], [t.to, now, fromStates(name), name === 'expire' ? '1' : '0']);
  if (v === 'DECIDED') return { kind: 'decided' };
  if (v === 'FINAL') return { kind: 'final', status: a as RequestStatus };
  if (v === 'EARLY') return { kind: 'early' };
  return { kind: 'missing' };
}

/** Marks the final state as written to MongoDB and announced; drops the request from its devices' open sets. */
export async function markFinalized(redis: Redis, prefix: string, s: ApprovalState): Promise<void> {
  // One MULTI per tenant whose keys it touches (the request's own first): each stays in one hash slot.
  const groups = byTenant(s.participants);
  if (!groups.has(s.tenant_id)) groups.set(s.tenant_id, []);
  await Promise.all(
    [...groups].map(([tenantId, ps]) => {
      const multi = redis.multi();
      if (tenantId === s.tenant_id) multi.hset(hashKey(prefix, s.tenant_id, s._id), 'finalized', '1');
      for (const p of ps)
        for (const d of p.device_ids)
          multi.zrem(redisKey.deviceOpenRequests(prefix, tenantId, d), tenantId === s.tenant_id ? s._id : `${s.tenant_id}:${s._id}`);
      return multi.exec();
    }),
  );
}

/** Participants grouped by their tenant (whose hash tag their keys carry). */
function byTenant(ps: Participant[]): Map<string, Participant[]> {
  const m = new Map<string, Participant[]>();
  for (const p of ps) m.set(p.tenant_id, [...(m.get(p.tenant_id) ?? []), p]);
  return m;
}

/**
 * The requests addressed to one device that have not expired, newest first (at most `limit`): what
 * the device would have received by push. Members of another tenant (cross-organisation) are
 * `{tenant}:{id}`.
 */
export async function openRequestsOfDevice(
  redis: Redis,
  prefix: string,
  tenantId: string,
  deviceId: string,
  limit = 70,
  now = Date.now(),
): Promise<ApprovalState[]> {
  const set = redisKey.deviceOpenRequests(prefix, tenantId, deviceId);
  const ids = await redis.zrevrangebyscore(set, '+inf', `(${now}`, 'LIMIT', 0, limit);
  if (!ids.length) return [];
  // Own requests share this tenant's slot; foreign ones are read one by one (rare, and small).
  const refs = ids.map((m) => {
    const i = m.indexOf(':');
    return i > 0 ? { tenant: m.slice(0, i), id: m.slice(i + 1) } : { tenant: tenantId, id: m };
  });
  const rows = await Promise.all(refs.map((r) => redis.hgetall(hashKey(prefix, r.tenant, r.id))));
  return rows.flatMap((h, i) => {
    const s = fromHash(refs[i]!.id, h);
    return s ? [s] : [];
  });
}
