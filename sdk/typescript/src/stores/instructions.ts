/**
 * SudoInstructionStore (~180 s): one record per instruction of the two-call sudo protocol, moved only
 * by the transitions of INSTRUCTION_TRANSITIONS (the Python SDK's table). `pending` → (ApprovalEvent)
 * `validated` | `denied` | `expired` | `cancelled`; for a typed confirmation (totp, goldenNumber) an
 * approval leads to `awaiting_response` instead, and only the relay's `matched: true` for what the
 * triggering session typed (`match`) leads to `validated`; `validated` → (the re-call with
 * X-Sudo-Instruction-Key) `consumed`, once. The record keeps who it is for, which action, how they
 * confirm (`customType`), a fingerprint of what the user was shown and a hash of the session that
 * asked (`binding`), so a key validated for one user, action or amount opens nothing else.
 *
 * Keys and records are the Python SDK's (`{prefix}:sudo:{instruction_id}`, the same JSON), so both
 * SDKs can share one Redis.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RelaySettings } from '../settings.js';
import type { KV } from './kv.js';
import { MemoryKV } from './memory.js';
import { RedisKV, type RedisLike } from './redis.js';

export type InstructionStatus = 'pending' | 'awaiting_response' | 'validated' | 'denied' | 'expired' | 'cancelled' | 'consumed';

/** The confirmations whose approval on the device is not enough: the code must also be typed on the page. */
export const TYPED_CUSTOM_TYPES: readonly string[] = ['totp', 'goldenNumber'];
export const isTyped = (customType: string) => TYPED_CUSTOM_TYPES.includes(customType);

/**
 * Every way an instruction's status may change, by name: from which statuses, to which. Nothing
 * else moves a record (the Python SDK's `INSTRUCTION_TRANSITIONS`, the same table).
 */
export const INSTRUCTION_TRANSITIONS = {
  /** The ApprovalEvent says approved, for a localAuth instruction. */
  approve: { from: ['pending'], to: 'validated' },
  /** The ApprovalEvent says approved, for a totp / goldenNumber instruction: the typed code is still due. */
  approve_typed: { from: ['pending'], to: 'awaiting_response' },
  deny: { from: ['pending'], to: 'denied' },
  expire: { from: ['pending', 'awaiting_response'], to: 'expired' },
  cancel: { from: ['pending', 'awaiting_response'], to: 'cancelled' },
  /** The relay confirmed (`matched: true`, status approved) what the triggering session typed. */
  match: { from: ['pending', 'awaiting_response'], to: 'validated' },
  /** The re-call with X-Sudo-Instruction-Key, once. */
  consume: { from: ['validated'], to: 'consumed' },
} as const satisfies Record<string, { from: readonly InstructionStatus[]; to: InstructionStatus }>;
export type InstructionTransition = keyof typeof INSTRUCTION_TRANSITIONS;

/** The transition a relay's final status means for this instruction. */
export function transitionFor(status: string, customType: string): InstructionTransition | null {
  if (status === 'approved') return isTyped(customType) ? 'approve_typed' : 'approve';
  return status === 'denied' ? 'deny' : status === 'expired' ? 'expire' : status === 'cancelled' ? 'cancel' : null;
}

const canMove = (rec: Instruction, t: InstructionTransition) =>
  (INSTRUCTION_TRANSITIONS[t].from as readonly InstructionStatus[]).includes(rec.status);

export interface Instruction {
  instructionId: string;
  userSocketHash: string;
  expectedAction: string;
  fingerprint: string;
  /** How the user confirms (`localAuth`, `totp`, `goldenNumber`). */
  customType: string;
  /** sha256 of the session that triggered it (bindingOf): only that session may submit its code. */
  binding: string | null;
  status: InstructionStatus;
  eventId: string | null;
  createdAt: string;
  decidedAt: string | null;
  consumedAt: string | null;
}

/**
 * The outcome of a store step: `ok`, and when not, `reason` (`unknown`, `pending`, `denied`,
 * `expired`, `cancelled`, `reused`, `mismatch`, `already_final`, `contended`).
 */
export interface Decision<R> {
  ok: boolean;
  reason: string;
  record?: R;
}

export const isoNow = () => new Date().toISOString();
const CAS_TRIES = 8;

export function newInstruction(
  fields: Pick<Instruction, 'instructionId' | 'userSocketHash' | 'expectedAction' | 'fingerprint'> &
    Partial<Pick<Instruction, 'customType' | 'binding'>>,
): Instruction {
  return {
    customType: 'localAuth',
    binding: null,
    ...fields,
    status: 'pending',
    eventId: null,
    createdAt: isoNow(),
    decidedAt: null,
    consumedAt: null,
  };
}

/** What a session key is stored as: a hash, never the session id itself. */
export function bindingOf(sessionKey: string): string {
  return createHash('sha256').update(`bloonio-sudo-binding-v1\n${sessionKey}`, 'utf8').digest('hex');
}

/** Constant-time comparison of two bindings (a missing one never matches). */
export function sameBinding(a: string | null, b: string | null): boolean {
  if (!a || !b || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/** The Python SDK's record: snake_case keys, sorted, compact. */
function dump(r: Instruction): string {
  const o: Record<string, unknown> = {
    binding: r.binding,
    consumed_at: r.consumedAt,
    created_at: r.createdAt,
    custom_type: r.customType,
    decided_at: r.decidedAt,
    event_id: r.eventId,
    expected_action: r.expectedAction,
    fingerprint: r.fingerprint,
    instruction_id: r.instructionId,
    status: r.status,
    user_socket_hash: r.userSocketHash,
  };
  return JSON.stringify(o);
}

function load(raw: string): Instruction {
  const o = JSON.parse(raw) as Record<string, string | null>;
  return {
    instructionId: String(o.instruction_id),
    userSocketHash: String(o.user_socket_hash),
    expectedAction: String(o.expected_action),
    fingerprint: String(o.fingerprint),
    // Records written before the custom type was kept were localAuth (typed ones could not be told apart).
    customType: o.custom_type ?? 'localAuth',
    binding: o.binding ?? null,
    status: String(o.status) as InstructionStatus,
    eventId: o.event_id ?? null,
    createdAt: String(o.created_at),
    decidedAt: o.decided_at ?? null,
    consumedAt: o.consumed_at ?? null,
  };
}

/** Compare-and-set loop over one JSON record: read, decide (pure), swap; retried on a race. */
export async function cas<R>(
  kv: KV,
  key: string,
  ttlSeconds: number,
  codec: { load: (raw: string) => R; dump: (r: R) => string },
  decide: (r: R | null) => Decision<R>,
): Promise<Decision<R>> {
  for (let i = 0; i < CAS_TRIES; i++) {
    const raw = await kv.get(key);
    const d = decide(raw === null ? null : codec.load(raw));
    if (!d.ok || raw === null || !d.record) return d;
    if (await kv.swap(key, raw, codec.dump(d.record), ttlSeconds)) return d;
  }
  return { ok: false, reason: 'contended' };
}

export interface StoreOptions {
  /** Key prefix (default `bloonio_relay`). */
  prefix?: string;
  /** Seconds a decided instruction stays usable for its re-call (default 180). */
  recallTtlSeconds?: number;
}

export class SudoInstructionStore {
  readonly prefix: string;
  readonly recallTtlSeconds: number;

  constructor(
    readonly kv: KV,
    o: StoreOptions = {},
  ) {
    this.prefix = o.prefix ?? 'bloonio_relay';
    this.recallTtlSeconds = o.recallTtlSeconds ?? 180;
  }

  static fromSettings(settings: RelaySettings, kv?: KV): SudoInstructionStore {
    return new SudoInstructionStore(kv ?? kvFromSettings(settings), {
      prefix: settings.statePrefix,
      recallTtlSeconds: settings.sudoTtlSeconds,
    });
  }

  static memory(o: StoreOptions = {}): SudoInstructionStore {
    return new SudoInstructionStore(new MemoryKV(), o);
  }

  /** On Redis: a URL, or your own ioredis client. */
  static redis(redis: string | RedisLike, o: StoreOptions = {}): SudoInstructionStore {
    return new SudoInstructionStore(new RedisKV(redis), o);
  }

  private key(instructionId: string): string {
    return `${this.prefix}:sudo:${instructionId}`;
  }

  /** Stores a new pending instruction for the challenge's lifetime plus the re-call window. */
  create(rec: Instruction, ttlSeconds: number): Promise<boolean> {
    return this.kv.putNew(this.key(rec.instructionId), dump(rec), ttlSeconds + this.recallTtlSeconds);
  }

  async get(instructionId: string): Promise<Instruction | null> {
    const raw = await this.kv.get(this.key(instructionId));
    return raw === null ? null : load(raw);
  }

  /** Applies an ApprovalEvent's final status to a pending instruction (once). */
  resolve(
    instructionId: string,
    status: string,
    o: { userSocketHash?: string | null; expectedAction?: string | null; eventId?: string | null } = {},
  ): Promise<Decision<Instruction>> {
    return cas(this.kv, this.key(instructionId), this.recallTtlSeconds, { load, dump }, (rec) => {
      if (!rec) return { ok: false, reason: 'unknown' };
      const t = transitionFor(status, rec.customType);
      if (!t || !canMove(rec, t)) return { ok: false, reason: 'already_final', record: rec };
      if (
        (o.userSocketHash != null && o.userSocketHash !== rec.userSocketHash) ||
        (o.expectedAction != null && o.expectedAction !== rec.expectedAction)
      ) {
        return { ok: false, reason: 'mismatch', record: rec };
      }
      const next = INSTRUCTION_TRANSITIONS[t].to;
      return { ok: true, reason: next, record: { ...rec, status: next, eventId: o.eventId ?? rec.eventId, decidedAt: isoNow() } };
    });
  }

  /**
   * The relay confirmed (`matched: true`, status approved) the code typed for a totp / goldenNumber
   * instruction, from the session that triggered it (`binding`): it becomes `validated`, once.
   */
  match(instructionId: string, binding: string | null): Promise<Decision<Instruction>> {
    return cas(this.kv, this.key(instructionId), this.recallTtlSeconds, { load, dump }, (rec) => {
      if (!rec) return { ok: false, reason: 'unknown' };
      if (!isTyped(rec.customType) || !sameBinding(rec.binding, binding)) return { ok: false, reason: 'mismatch', record: rec };
      if (!canMove(rec, 'match')) return { ok: false, reason: 'already_final', record: rec };
      return { ok: true, reason: 'validated', record: { ...rec, status: INSTRUCTION_TRANSITIONS.match.to, decidedAt: isoNow() } };
    });
  }

  /** The re-call: a validated instruction of this user, action and content passes once. */
  consume(
    instructionId: string,
    o: { userSocketHash: string; expectedAction: string; fingerprint?: string },
  ): Promise<Decision<Instruction>> {
    return cas(this.kv, this.key(instructionId), this.recallTtlSeconds, { load, dump }, (rec) => {
      if (!rec) return { ok: false, reason: 'unknown' };
      if (
        rec.userSocketHash !== o.userSocketHash ||
        rec.expectedAction !== o.expectedAction ||
        (o.fingerprint !== undefined && o.fingerprint !== rec.fingerprint)
      ) {
        return { ok: false, reason: 'mismatch', record: rec };
      }
      if (!canMove(rec, 'consume')) return { ok: false, reason: rec.status === 'consumed' ? 'reused' : rec.status, record: rec };
      return { ok: true, reason: 'consumed', record: { ...rec, status: INSTRUCTION_TRANSITIONS.consume.to, consumedAt: isoNow() } };
    });
  }

  /** Forgets an instruction (its challenge could not be sent). */
  discard(instructionId: string): Promise<void> {
    return this.kv.delete(this.key(instructionId));
  }

  /** True the first time `value` is seen (callback signatures): a ReplayStore. */
  firstTime(kind: string, value: string, ttlSeconds: number): Promise<boolean> {
    return this.kv.putNew(`${this.prefix}:seen:${kind}:${value}`, '1', ttlSeconds);
  }

  close(): Promise<void> {
    return this.kv.close();
  }
}

/** The backend the settings name (`redis` needs STATE_BACKEND_URL). */
export function kvFromSettings(settings: RelaySettings): KV {
  return settings.stateBackend === 'memory' ? new MemoryKV() : new RedisKV(settings.stateUrl());
}

/** Remembers callback signatures on a KV (memory or Redis), for `verifyCallback`'s `replayStore`. */
export function replayStore(kv: KV, prefix = 'bloonio_relay') {
  return { firstTime: (kind: string, value: string, ttlSeconds: number) => kv.putNew(`${prefix}:seen:${kind}:${value}`, '1', ttlSeconds) };
}
