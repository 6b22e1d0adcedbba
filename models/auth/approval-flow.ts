/**
 * The life of an approval request, shared by the API (create, answer, cancel, read) and the workers
 * (persist, push, expire, finalize). The request lives in Redis (approval-state.ts) while it is live;
 * MongoDB receives it from the workers:
 *
 *   create    API: the Redis hash (and the instruction id claimed), the push manifest, then one batch of
 *             jobs — approval.persist, one push.send per device with a token (the others poll), and
 *             for an answerable request a delayed push.expire-request at its expiry;
 *   answer    API: the kind's rules (approval-rules.ts), then the decision script: recorded, or
 *             decided (approved/denied) — a decision enqueues approval.finalize;
 *   expire    worker: at the expiry, a still-pending request ends expired, and is finalized;
 *   finalize  worker: the final state written to MongoDB, its callbacks emitted (ids derived from the
 *             request, so a retried or duplicated finalize emits nothing twice), pushes stopped.
 */
import { DomainError } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import { redisKey } from '../../platform/keys.js';
import type { JobOutcome } from '../../queues/catalogue.js';
import type { FlowDeps, TenantFlowDeps } from '../platform/deps.js';
import { emitEvent } from '../platform/emit-event.js';
import { BatchInserter, BatchWriter } from '../platform/batch-insert.js';
import { approvalMachine } from './approval-machine.js';
import { ApprovalRequestModel, PushDeliveryModel, findRequest, type ApprovalRequestDoc, type RequestKind } from './approval-request.js';
import { closedError, judgeAnswer, type AnswerInput, type AnswerEffect } from './approval-rules.js';
import {
  STATE_GRACE_MS,
  createState,
  markEnqueued,
  endState,
  markFinalized,
  personKey,
  readState,
  recordAnswer,
  restoreState,
  unqueuedHolder,
  type ApprovalState,
  type NewParticipant,
  type Participant,
} from './approval-state.js';
import type { FanoutDevice, FanoutPairing } from './fanout-cache.js';
import { ensureAuthIndexes } from './indexes.js';
import { countPrompt } from './prompt-fatigue.js';
import { deliveryRecord, markSettled, pushMessage, manifestFields } from './push-delivery.js';
import { approvalEventData } from './sudo-flow.js';

export class DuplicateInstructionError extends Error {}

export type NewRequest = {
  tenantId: string;
  kind: RequestKind;
  /** The one user it is for (push challenges and alerts): its pairing and devices. */
  pairing: FanoutPairing;
  devices: FanoutDevice[];
  instructionId?: string;
  content: Record<string, unknown>;
  expectedNumber?: string | null;
  ttlSeconds: number;
  /** Also send the ApprovalEvent to the sudo callback path once final. */
  approvalEvent?: boolean;
};

export type NewMultiRequest = {
  tenantId: string;
  kind: RequestKind;
  /** The request's id, when the caller minted it (a sudo event id). */
  id?: string;
  participants: NewParticipant[];
  /** Distinct people whose approval ends it approved. */
  threshold: number;
  denyOnFirstDenial?: boolean;
  instructionId?: string;
  content: Record<string, unknown>;
  expectedNumber?: string | null;
  ttlSeconds: number;
  approvalEvent?: boolean;
};

/** Create, as the API does it, for one user (push challenges and alerts). */
export function createApprovalRequest(deps: FlowDeps, r: NewRequest): Promise<ApprovalState> {
  return createRequest(deps, {
    ...r,
    participants: [
      {
        tenantId: r.tenantId,
        relayUserLinkedId: r.pairing.relay_user_linked_id,
        userSocketHash: r.pairing.user_socket_hash,
        devices: r.devices,
      },
    ],
    threshold: 1,
    pairingId: r.pairing._id,
  });
}

/**
 * Create, as the API does it: Redis first, then one batch of jobs; MongoDB is written by the worker.
 * Devices of every participant get a push (the ones with a token) and find it in their poll.
 */
export async function createRequest(deps: FlowDeps, r: NewMultiRequest & { pairingId?: string }): Promise<ApprovalState> {
  const answerable = r.kind !== 'security-alert';
  const id = r.id ?? newId(answerable ? 'chg' : 'alr');
  const now = new Date();
  const participants: Participant[] = r.participants.map((p) => ({
    person: personKey(p.tenantId, p.relayUserLinkedId),
    tenant_id: p.tenantId,
    relay_user_linked_id: p.relayUserLinkedId,
    device_ids: p.devices.map((d) => d._id),
  }));
  const single = r.participants.length === 1 ? r.participants[0] : undefined;
  const state: ApprovalState = {
    _id: id,
    tenant_id: r.tenantId,
    kind: r.kind,
    status: answerable ? 'pending' : 'informational',
    instruction_id: r.instructionId ?? id,
    pairing_id: r.pairingId ?? '',
    user_socket_hash: single?.userSocketHash ?? '',
    relay_user_linked_id: single?.relayUserLinkedId ?? '',
    content: r.content,
    expected_number: r.expectedNumber ?? null,
    device_ids: participants.flatMap((p) => p.device_ids),
    participants,
    threshold: r.threshold,
    deny_on_first_denial: r.denyOnFirstDenial ?? false,
    approval_event: r.approvalEvent ?? false,
    created_at: now,
    expires_at: new Date(now.getTime() + r.ttlSeconds * 1000),
    decided_at: null,
    answers: [],
    finalized: false,
  };
  const prefix = deps.config.queuePrefix;
  // 0. Push fatigue: one budget per person for every prompt, whichever route or tenant asks (alerts are passive).
  if (answerable) await countPrompt(deps, r.participants);
  // 1. The live request; a live request with the same instruction_id refuses this one, unless it is
  // this same request whose first try never queued its jobs (that try answered 503 or its process
  // died): the resend completes it, so a client that retries as told is not refused for ever.
  if (!(await createState(deps.redis, prefix, state, now.getTime()))) {
    const held = state.instruction_id !== id ? await unqueuedHolder(deps.redis, prefix, r.tenantId, state.instruction_id) : null;
    if (!held || !sameRequest(held, state)) throw new DuplicateInstructionError('instruction_id in use');
    return queueJobs(deps, r, held);
  }
  return queueJobs(deps, r, state);
}

/**
 * A resend of `a`: the same people, kind and content (its id, times and answers aside). The tenant is
 * the one whose keys held it; the participants name each person with their tenant and devices.
 */
function sameRequest(a: ApprovalState, b: ApprovalState): boolean {
  return (
    a.kind === b.kind &&
    a.user_socket_hash === b.user_socket_hash &&
    JSON.stringify(a.content) === JSON.stringify(b.content) &&
    a.expected_number === b.expected_number &&
    a.approval_event === b.approval_event &&
    JSON.stringify(a.participants) === JSON.stringify(b.participants)
  );
}

/** Steps 2 and 3 of createRequest: idempotent (the jobs have fixed ids), so a resend may run them again. */
async function queueJobs(deps: FlowDeps, r: NewMultiRequest, state: ApprovalState): Promise<ApprovalState> {
  const prefix = deps.config.queuePrefix;
  const id = state._id;
  const answerable = r.kind !== 'security-alert';

  // 2. What the push worker sends, and the outcome of each device without a token (it polls).
  const devices = r.participants.flatMap((p) => p.devices);
  const withToken = devices.filter((d): d is FanoutDevice & { fcm_token: string } => !!d.fcm_token);
  const noToken = devices.filter((d) => !d.fcm_token);
  if (withToken.length) {
    const key = redisKey.pushManifest(prefix, r.tenantId, id);
    const tokens = withToken.map((d) => ({ deviceId: d._id, token: d.fcm_token }));
    await deps.redis
      .multi()
      .hset(key, ...manifestFields(pushMessage(state), state.user_socket_hash, tokens))
      .pexpire(key, r.ttlSeconds * 1000 + 5000)
      .exec();
  }
  if (noToken.length)
    await markSettled(deps.redis, prefix, r.tenantId, id, Object.fromEntries(noToken.map((d) => [d._id, { status: 'no_token' as const }])));

  // 3. One batch of jobs (a failed enqueue surfaces as 503: the caller was not told "accepted").
  const ids = { tenantId: r.tenantId, requestId: id };
  await deps.producer.enqueueMany([
    { name: 'approval.persist', payload: ids },
    ...withToken.map((d) => ({ name: 'push.send' as const, payload: { ...ids, deviceId: d._id } })),
    ...(answerable
      ? [
          {
            name: 'push.expire-request' as const,
            payload: ids,
            opts: { delay: Math.max(0, state.expires_at.getTime() - Date.now()) + 250 },
          },
        ]
      : []),
  ]);
  await markEnqueued(deps.redis, prefix, r.tenantId, id);
  return state;
}

// ---- reading ------------------------------------------------------------------------------------

/** A MongoDB record in the live shape (for a request Redis no longer holds). */
function fromDocument(d: ApprovalRequestDoc): ApprovalState {
  const participants =
    d.participants?.length > 0
      ? d.participants.map((p) => ({ ...p, device_ids: [...p.device_ids] }))
      : [
          {
            person: personKey(d.tenant_id, d.relay_user_linked_id),
            tenant_id: d.tenant_id,
            relay_user_linked_id: d.relay_user_linked_id,
            device_ids: [...d.device_ids],
          },
        ];
  return {
    _id: d._id,
    tenant_id: d.tenant_id,
    kind: d.kind,
    status: d.status,
    instruction_id: d.instruction_id,
    pairing_id: d.pairing_id,
    user_socket_hash: d.user_socket_hash,
    relay_user_linked_id: d.relay_user_linked_id,
    content: d.content as Record<string, unknown>,
    expected_number: d.expected_number ?? null,
    device_ids: [...d.device_ids],
    participants,
    threshold: d.threshold ?? 1,
    deny_on_first_denial: d.deny_on_first_denial ?? false,
    approval_event: d.approval_event ?? false,
    created_at: d.created_at,
    expires_at: d.expires_at,
    decided_at: d.resolved_at ?? null,
    answers: (d.answers ?? []).map((a) => ({
      ...a,
      answer: a.answer ?? null,
      number_matched: a.number_matched ?? null,
      reason: a.reason ?? null,
      at: a.at.toISOString(),
    })),
    finalized: d.status !== 'pending',
  };
}

/** The live request, from Redis, or from MongoDB (put back in Redis) when Redis no longer has it. */
export async function loadApprovalRequest(deps: FlowDeps, tenantId: string, requestId: string): Promise<ApprovalState | null> {
  const live = await readState(deps.redis, deps.config.queuePrefix, tenantId, requestId);
  if (live) return live;
  const stored = await findRequest(tenantId, requestId);
  if (!stored) return null;
  const s = fromDocument(stored);
  if (s.expires_at.getTime() + STATE_GRACE_MS > Date.now()) await restoreState(deps.redis, deps.config.queuePrefix, s);
  return s;
}

export { fromDocument as approvalStateOf };

// ---- answering ----------------------------------------------------------------------------------

export type Answer = AnswerInput & { signature: string; signedAtMs: number; displayHash?: string | null };
export type AnswerResult = AnswerEffect & { status: 'approved' | 'denied' | 'pending' };

/**
 * A device's answer, already authenticated (its session and key) and its signature checked: the
 * request must be addressed to the device (404 otherwise); the kind's rules say what it counts as;
 * the decision script records it once per person and decides at most once.
 */
export async function answerApprovalRequest(
  deps: FlowDeps,
  device: { _id: string },
  request: ApprovalState,
  answer: Answer,
): Promise<AnswerResult> {
  const person = request.participants.find((p) => p.device_ids.includes(device._id));
  if (!person) throw new DomainError('NOT_FOUND', 'Request not found.');
  if (request.kind === 'security-alert') throw new DomainError('CONFLICT', 'A security alert takes no answer.');
  // The states an answer is taken in (the script checks again, atomically).
  if (!(approvalMachine.get('approve').from as readonly string[]).includes(request.status)) throw closedError(request.status);
  if (request.expires_at.getTime() <= Date.now()) throw closedError('expired-pending');
  const effect = judgeAnswer(request, answer);
  const verdict = await recordAnswer(deps.redis, deps.config.queuePrefix, request.tenant_id, request._id, device._id, {
    person: person.person,
    relay_user_linked_id: person.relay_user_linked_id,
    tenant_id: person.tenant_id,
    device_id: device._id,
    decision: answer.decision,
    effect: effect.effect,
    answer: answer.answer,
    number_matched: effect.numberMatched,
    reason: effect.reason,
    device_signature: answer.signature,
    signed_at_ms: answer.signedAtMs,
    display_hash: answer.displayHash ?? null,
    at: new Date().toISOString(),
  });
  switch (verdict.kind) {
    case 'decided':
      await deps.producer.enqueue('approval.finalize', { tenantId: request.tenant_id, requestId: request._id });
      return { ...effect, status: verdict.status };
    case 'recorded':
      return { ...effect, status: 'pending' };
    case 'final':
      throw closedError(verdict.status);
    case 'expired':
      throw closedError('expired-pending');
    case 'duplicate':
      throw new DomainError('CONFLICT', 'You already answered this request (from this or another of your devices).');
    case 'not_participant':
    case 'missing':
      throw new DomainError('NOT_FOUND', 'Request not found.');
  }
}

// ---- the workers' side --------------------------------------------------------------------------

const requestWrites = new BatchWriter(() => ApprovalRequestModel.collection);
// approval.persist is an insert (an upsert costs FerretDB a lookup and a write per document; a batch
// of inserts is one round trip): a duplicate means a retry, or finalize got there first, and the
// record it wrote is the newer one.
const requestInserts = new BatchInserter(() => ApprovalRequestModel.collection);
const deliveryWrites = new BatchWriter(() => PushDeliveryModel.collection);

/** The MongoDB record of a request in its current state. */
function toDocument(s: ApprovalState) {
  const decider = [...s.answers].sort((a, b) => a.at.localeCompare(b.at)).at(-1);
  const final = s.status !== 'pending' && s.status !== 'informational';
  return {
    _id: s._id,
    tenant_id: s.tenant_id,
    kind: s.kind,
    pairing_id: s.pairing_id,
    user_socket_hash: s.user_socket_hash,
    relay_user_linked_id: s.relay_user_linked_id,
    instruction_id: s.instruction_id,
    content: s.content,
    expected_number: s.expected_number,
    status: s.status,
    device_ids: s.device_ids,
    participants: s.participants,
    threshold: s.threshold,
    deny_on_first_denial: s.deny_on_first_denial,
    approval_event: s.approval_event,
    answers: s.answers.map((a) => ({ ...a, at: new Date(a.at) })),
    expires_at: s.expires_at,
    resolved_at: final ? (s.decided_at ?? new Date()) : null,
    resolution:
      final && decider && (s.status === 'approved' || s.status === 'denied')
        ? {
            device_id: decider.device_id,
            decision: decider.decision,
            answer: decider.answer,
            number_matched: decider.number_matched,
            reason: decider.reason,
            device_signature: decider.device_signature,
            signed_at_ms: decider.signed_at_ms,
          }
        : null,
    event_id: null,
    created_at: s.created_at,
    updated_at: new Date(),
  };
}

/** approval.persist: the new request into MongoDB (an insert if absent: a finalize may have come first). */
export async function persistApprovalRequest(deps: FlowDeps, tenantId: string, requestId: string): Promise<JobOutcome<'approval.persist'>> {
  const s = await readState(deps.redis, deps.config.queuePrefix, tenantId, requestId);
  if (!s) return 'gone';
  await ensureAuthIndexes();
  await Promise.all([
    requestInserts.insertOnce(toDocument(s)),
    ...(await noTokenDevices(deps, s)).map((deviceId) =>
      deliveryWrites.write({
        updateOne: {
          filter: { _id: `${requestId}:${deviceId}`, tenant_id: tenantId },
          update: { $setOnInsert: deliveryRecord(tenantId, requestId, deviceId, 'no_token', {}, 0) },
          upsert: true,
        },
      }),
    ),
  ]);
  return 'persisted';
}

/** The devices the API settled as `no_token` when it created the request (recorded in the settled hash). */
async function noTokenDevices(deps: FlowDeps, s: ApprovalState): Promise<string[]> {
  if (!s.device_ids.length) return [];
  const settled = await deps.redis.hmget(redisKey.pushSettled(deps.config.queuePrefix, s.tenant_id, s._id), ...s.device_ids);
  return s.device_ids.filter((_, i) => settled[i]?.includes('"no_token"'));
}

/**
 * The callbacks of a final request: a push challenge's `auth_challenge.*`, and the ApprovalEvent for a
 * sudo dispatch or a challenge sent with approval_event. Their ids derive from the request and its
 * status, so announcing twice emits nothing twice.
 */
async function announce(deps: TenantFlowDeps, s: ApprovalState): Promise<void> {
  const entry = await deps.tenants.get(s.tenant_id);
  if (!entry) return;
  const at = s.decided_at ?? new Date();
  if (s.kind === 'auth-challenge' && (s.status === 'approved' || s.status === 'denied' || s.status === 'expired'))
    await emitEvent(deps, entry.tenant, `auth_challenge.${s.status}`, challengeOutcomeOf(s), { key: `${s._id}:${s.status}`, at });
  if (s.kind === 'sudo' || (s.kind === 'auth-challenge' && s.approval_event))
    await emitEvent(deps, entry.tenant, 'sudo.approval_event', await approvalEventData(s), { key: `${s._id}:approval:${s.status}`, at });
}

/**
 * approval.finalize (and the expiry job once it decided): the final state into MongoDB, the callbacks,
 * no more pushes. Safe to run twice: the write is a replace by _id, the callbacks' ids derive from the
 * request, and a finalized request is left alone.
 */
export async function finalizeApprovalRequest(
  deps: TenantFlowDeps,
  tenantId: string,
  requestId: string,
): Promise<JobOutcome<'approval.finalize'>> {
  const s = await readState(deps.redis, deps.config.queuePrefix, tenantId, requestId);
  if (!s) return 'gone';
  if (s.status === 'pending' || s.status === 'informational') return 'not-final';
  if (s.finalized) return 'already-finalized';
  await ensureAuthIndexes();
  const { _id, ...doc } = toDocument(s);
  await requestWrites.write({ replaceOne: { filter: { _id, tenant_id: tenantId }, replacement: doc, upsert: true } });
  await announce(deps, s);
  await deps.redis.del(redisKey.pushManifest(deps.config.queuePrefix, tenantId, requestId));
  await markFinalized(deps.redis, deps.config.queuePrefix, s);
  return `finalized-${s.status}`;
}

/**
 * push.expire-request: at the expiry, a pending request ends expired. One that was decided but not
 * finalized (its finalize job lost, a process killed in between) is finalized here: the expiry job
 * doubles as the reconciler of every request.
 */
export async function expireApprovalRequest(
  deps: TenantFlowDeps,
  tenantId: string,
  requestId: string,
): Promise<JobOutcome<'push.expire-request'>> {
  const v = await endState(deps.redis, deps.config.queuePrefix, tenantId, requestId, 'expire', 'sweeper');
  if (v.kind === 'early') throw new Error('request not yet expired'); // an early timer: retried shortly
  if (v.kind === 'missing') return expireFromHistory(deps, tenantId, requestId);
  return finalizeApprovalRequest(deps, tenantId, requestId);
}

/** Redis lost the request (restored from an old snapshot): expire it from its MongoDB record. */
async function expireFromHistory(deps: TenantFlowDeps, tenantId: string, requestId: string): Promise<JobOutcome<'push.expire-request'>> {
  const stored = await findRequest(tenantId, requestId);
  if (!stored) return 'missing';
  if (stored.status !== 'pending') return `already-${stored.status}`;
  const s = fromDocument(stored);
  await restoreState(deps.redis, deps.config.queuePrefix, { ...s, finalized: false });
  const v = await endState(deps.redis, deps.config.queuePrefix, tenantId, requestId, 'expire', 'sweeper');
  if (v.kind === 'early') throw new Error('request not yet expired');
  return finalizeApprovalRequest(deps, tenantId, requestId);
}

// ---- views --------------------------------------------------------------------------------------

/** What a push challenge's callback says (and fetch/delivery-status reports as its outcome). */
export function challengeOutcomeOf(s: ApprovalState) {
  const decider = [...s.answers].sort((a, b) => a.at.localeCompare(b.at)).at(-1);
  const c = s.content;
  return {
    request_id: s._id,
    kind: s.kind,
    instruction_id: s.instruction_id,
    status: s.status as 'approved' | 'denied' | 'expired',
    user_socket_hash: s.user_socket_hash,
    relay_user_linked_id: s.relay_user_linked_id,
    custom_type: typeof c.custom_type === 'string' ? c.custom_type : null,
    expected_action: typeof c.expected_action === 'string' ? c.expected_action : null,
    resolved_at: s.decided_at?.toISOString() ?? null,
    device_id: decider?.device_id ?? null,
    decision: decider?.decision ?? null,
    answer: decider?.answer ?? null,
    number_matched: decider?.number_matched ?? null,
    reason: decider?.reason ?? null,
    device_signature: decider?.device_signature ?? null,
    signed_at_ms: decider?.signed_at_ms ?? null,
  };
}

/** The status a reader should see: a pending request past its expiry is expired (the job may lag a little). */
export function visibleStatus(s: ApprovalState): ApprovalState['status'] {
  return s.status === 'pending' && s.expires_at.getTime() <= Date.now() ? 'expired' : s.status;
}
