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
 * The decision is one Lua script: the answer is recorded only if the request is still pending,
 * unexpired, addressed to this device and not yet answered by this person; the same script counts
 * the answers against the threshold and moves the status at most once. So two answers arriving at
 * the same instant on two API processes cannot both decide, and an answer racing the expiry ends in
 * exactly one of the two states.
 */
import type { Redis } from 'ioredis';
import { redisKey } from '../../platform/keys.js';
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

// ---- scripts ------------------------------------------------------------------------------------

// KEYS[1] hash, KEYS[2] instruction key (or KEYS[1] when none), KEYS[3..] open sets of its devices.
// ARGV[1] request id, ARGV[2] hash lifetime ms, ARGV[3] expiry ms (set score), ARGV[4] now ms,
// ARGV[5..] field, value pairs. 0 when the instruction id is taken by another live request; 1 without
// a write when this request holds it already (a client resending the script after a lost answer: the
// request may have been answered meanwhile, and must not be reset).
const CREATE_LUA = `
if KEYS[2] ~= KEYS[1] then
  local held = redis.call('get', KEYS[2])
  if held == ARGV[1] then return 1 end
  if held then return 0 end
  redis.call('set', KEYS[2], ARGV[1], 'PX', ARGV[2])
end
redis.call('hset', KEYS[1], unpack(ARGV, 5))
redis.call('pexpire', KEYS[1], ARGV[2])
for i = 3, #KEYS do
  redis.call('zadd', KEYS[i], ARGV[3], ARGV[1])
  redis.call('zremrangebyscore', KEYS[i], '-inf', '(' .. ARGV[4])
  if redis.call('pttl', KEYS[i]) < tonumber(ARGV[2]) then redis.call('pexpire', KEYS[i], ARGV[2]) end
end
return 1`;

// KEYS[1] hash. ARGV[1] device id, ARGV[2] answer JSON (with "effect"), ARGV[3] now ms.
const ANSWER_LUA = `
if redis.call('exists', KEYS[1]) == 0 then return {'MISSING'} end
local st = redis.call('hget', KEYS[1], 'status')
if st ~= 'pending' then return {'FINAL', st} end
if tonumber(ARGV[3]) >= tonumber(redis.call('hget', KEYS[1], 'expires_at')) then return {'EXPIRED'} end
local participants = cjson.decode(redis.call('hget', KEYS[1], 'participants'))
local person = nil
for _, p in ipairs(participants) do
  for _, d in ipairs(p.device_ids) do if d == ARGV[1] then person = p.person end end
end
if not person then return {'NOT_PARTICIPANT'} end
if redis.call('hsetnx', KEYS[1], 'a:' .. person, ARGV[2]) == 0 then return {'DUPLICATE'} end
local approve, deny = 0, 0
for _, p in ipairs(participants) do
  local a = redis.call('hget', KEYS[1], 'a:' .. p.person)
  if a then
    if cjson.decode(a).effect == 'approve' then approve = approve + 1 else deny = deny + 1 end
  end
end
local threshold = tonumber(redis.call('hget', KEYS[1], 'threshold'))
local status = false
if approve >= threshold then status = 'approved'
elseif deny > 0 and redis.call('hget', KEYS[1], 'deny_first') == '1' then status = 'denied'
elseif #participants - deny < threshold then status = 'denied' end
if status then
  redis.call('hset', KEYS[1], 'status', status, 'decided_at', ARGV[3])
  return {'DECIDED', status}
end
return {'RECORDED', tostring(approve), tostring(deny)}`;

// KEYS[1] hash. ARGV[1] the final status to move to ('expired' needs the expiry passed), ARGV[2] now ms.
const END_LUA = `
if redis.call('exists', KEYS[1]) == 0 then return {'MISSING'} end
local st = redis.call('hget', KEYS[1], 'status')
if st ~= 'pending' then return {'FINAL', st} end
if ARGV[1] == 'expired' and tonumber(ARGV[2]) < tonumber(redis.call('hget', KEYS[1], 'expires_at')) then return {'EARLY'} end
redis.call('hset', KEYS[1], 'status', ARGV[1], 'decided_at', ARGV[2])
return {'DECIDED', ARGV[1]}`;

type Reply = [string, string?, string?];
type StateRedis = Redis & {
  approvalCreate(numKeys: number, ...args: (string | number)[]): Promise<number>;
  approvalAnswer(key: string, deviceId: string, answer: string, now: number): Promise<Reply>;
  approvalEnd(key: string, status: string, now: number): Promise<Reply>;
};

function scripts(redis: Redis): StateRedis {
  const r = redis as StateRedis;
  if (typeof r.approvalAnswer !== 'function') {
    r.defineCommand('approvalCreate', { lua: CREATE_LUA });
    r.defineCommand('approvalAnswer', { numberOfKeys: 1, lua: ANSWER_LUA });
    r.defineCommand('approvalEnd', { numberOfKeys: 1, lua: END_LUA });
  }
  return r;
}

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
  const ok = await scripts(redis).approvalCreate(
    2 + sets.length,
    key,
    instruction,
    ...sets,
    s._id,
    lifetime,
    s.expires_at.getTime(),
    now,
    ...toFields(s),
  );
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

const RESTORE_LUA = `if redis.call('exists', KEYS[1]) == 1 then return 0 end
redis.call('hset', KEYS[1], unpack(ARGV, 2))
redis.call('pexpire', KEYS[1], ARGV[1])
return 1`;

/** Puts back a request read from MongoDB (Redis lost it), unless a hash exists meanwhile. */
export async function restoreState(redis: Redis, prefix: string, s: ApprovalState): Promise<void> {
  const key = hashKey(prefix, s.tenant_id, s._id);
  const lifetime = Math.max(60_000, s.expires_at.getTime() - Date.now() + STATE_GRACE_MS);
  // (From MongoDB: its jobs ran, so it is marked queued.)
  await redis.eval(RESTORE_LUA, 1, key, lifetime, ...toFields(s), ENQUEUED, '1', ...(s.finalized ? ['finalized', '1'] : []));
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
  const [v, a, b] = await scripts(redis).approvalAnswer(hashKey(prefix, tenantId, requestId), deviceId, JSON.stringify(answer), now);
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

/** Ends a pending request as expired (only once its expiry has passed) or cancelled. */
export async function endState(
  redis: Redis,
  prefix: string,
  tenantId: string,
  requestId: string,
  status: 'expired' | 'cancelled',
  now = Date.now(),
): Promise<EndVerdict> {
  const [v, a] = await scripts(redis).approvalEnd(hashKey(prefix, tenantId, requestId), status, now);
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
