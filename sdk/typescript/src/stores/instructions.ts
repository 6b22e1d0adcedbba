/**
 * SudoInstructionStore (~180 s): one record per instruction of the two-call sudo protocol.
 * `pending` → (ApprovalEvent) `validated` | `denied` | `expired` | `cancelled`; `validated` → (the
 * re-call with X-Sudo-Instruction-Key) `consumed`, once. The record keeps who it is for, which
 * action, and a fingerprint of what the user was shown, so a key validated for one user, action or
 * amount opens nothing else.
 *
 * Keys and records are the Python SDK's (`{prefix}:sudo:{instruction_id}`, the same JSON), so both
 * SDKs can share one Redis.
 */
import type { RelaySettings } from '../settings.js';
import type { KV } from './kv.js';
import { MemoryKV } from './memory.js';
import { RedisKV, type RedisLike } from './redis.js';

export type InstructionStatus = 'pending' | 'validated' | 'denied' | 'expired' | 'cancelled' | 'consumed';

export interface Instruction {
  instructionId: string;
  userSocketHash: string;
  expectedAction: string;
  fingerprint: string;
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
  fields: Pick<Instruction, 'instructionId' | 'userSocketHash' | 'expectedAction' | 'fingerprint'>,
): Instruction {
  return { ...fields, status: 'pending', eventId: null, createdAt: isoNow(), decidedAt: null, consumedAt: null };
}

/** The Python SDK's record: snake_case keys, sorted, compact. */
function dump(r: Instruction): string {
  const o: Record<string, unknown> = {
    consumed_at: r.consumedAt,
    created_at: r.createdAt,
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
      if (rec.status !== 'pending') return { ok: false, reason: 'already_final', record: rec };
      if (
        (o.userSocketHash != null && o.userSocketHash !== rec.userSocketHash) ||
        (o.expectedAction != null && o.expectedAction !== rec.expectedAction)
      ) {
        return { ok: false, reason: 'mismatch', record: rec };
      }
      const next = (status === 'approved' ? 'validated' : status) as InstructionStatus;
      return { ok: true, reason: next, record: { ...rec, status: next, eventId: o.eventId ?? rec.eventId, decidedAt: isoNow() } };
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
      if (rec.status !== 'validated') return { ok: false, reason: rec.status === 'consumed' ? 'reused' : rec.status, record: rec };
      return { ok: true, reason: 'consumed', record: { ...rec, status: 'consumed', consumedAt: isoNow() } };
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
