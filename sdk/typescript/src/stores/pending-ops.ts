/**
 * PendingOpStore (10–30 min): the original mutation of a quorum or cross-organisation flow, which no
 * single user can re-call. `pending` → `replaying` (claimed once, when the ApprovalEvent says
 * approved) → `done` | `failed`; or `denied` / `expired` / `cancelled`, never replayed.
 * Keys and records are the Python SDK's (`{prefix}:op:{op_id}`).
 */
import { camelDeep, snakeDeep } from '../schema.js';
import type { RelaySettings } from '../settings.js';
import { cas, isoNow, kvFromSettings, type Decision } from './instructions.js';
import type { KV } from './kv.js';
import { MemoryKV } from './memory.js';
import { RedisKV, type RedisLike } from './redis.js';

export type PendingOpStatus = 'pending' | 'replaying' | 'done' | 'failed' | 'denied' | 'expired' | 'cancelled';

/**
 * A mutation waiting for its quorum: `action` names the replay handler, `payload` is the mutation
 * (your JSON: keep secrets and tokens out of it), `requestedBy` who asked; `result` / `error` are
 * filled after the replay, `approvals` are the ApprovalEvent's (`who`, `device`, `decision`, `at`…).
 */
export interface PendingOp<P = Record<string, unknown>> {
  opId: string;
  action: string;
  payload: P;
  requestedBy: Record<string, unknown>;
  eventId: string | null;
  status: PendingOpStatus;
  result: unknown;
  error: string | null;
  approvals: Record<string, unknown>[];
  createdAt: string;
  decidedAt: string | null;
  finishedAt: string | null;
}

export function newPendingOp(f: Pick<PendingOp, 'opId' | 'action' | 'payload'> & { requestedBy?: Record<string, unknown> }): PendingOp {
  return {
    opId: f.opId,
    action: f.action,
    payload: f.payload,
    requestedBy: f.requestedBy ?? {},
    eventId: null,
    status: 'pending',
    result: null,
    error: null,
    approvals: [],
    createdAt: isoNow(),
    decidedAt: null,
    finishedAt: null,
  };
}

function dump(o: PendingOp): string {
  return JSON.stringify({
    action: o.action,
    approvals: snakeDeep(o.approvals),
    created_at: o.createdAt,
    decided_at: o.decidedAt,
    error: o.error,
    event_id: o.eventId,
    finished_at: o.finishedAt,
    op_id: o.opId,
    payload: o.payload,
    requested_by: o.requestedBy,
    result: o.result ?? null,
    status: o.status,
  });
}

function load(raw: string): PendingOp {
  const o = JSON.parse(raw) as Record<string, unknown>;
  return {
    opId: String(o.op_id),
    action: String(o.action),
    payload: (o.payload ?? {}) as Record<string, unknown>,
    requestedBy: (o.requested_by ?? {}) as Record<string, unknown>,
    eventId: (o.event_id as string | null) ?? null,
    status: String(o.status) as PendingOpStatus,
    result: o.result ?? null,
    error: (o.error as string | null) ?? null,
    approvals: camelDeep(o.approvals ?? []) as Record<string, unknown>[],
    createdAt: String(o.created_at),
    decidedAt: (o.decided_at as string | null) ?? null,
    finishedAt: (o.finished_at as string | null) ?? null,
  };
}

export interface PendingOpStoreOptions {
  prefix?: string;
  /** Seconds an op is kept (default 1800). */
  ttlSeconds?: number;
}

export class PendingOpStore {
  readonly prefix: string;
  readonly ttlSeconds: number;

  constructor(
    readonly kv: KV,
    o: PendingOpStoreOptions = {},
  ) {
    this.prefix = o.prefix ?? 'bloonio_relay';
    this.ttlSeconds = o.ttlSeconds ?? 1800;
  }

  static fromSettings(settings: RelaySettings, kv?: KV): PendingOpStore {
    return new PendingOpStore(kv ?? kvFromSettings(settings), { prefix: settings.statePrefix, ttlSeconds: settings.pendingOpTtlSeconds });
  }

  static memory(o: PendingOpStoreOptions = {}): PendingOpStore {
    return new PendingOpStore(new MemoryKV(), o);
  }

  static redis(redis: string | RedisLike, o: PendingOpStoreOptions = {}): PendingOpStore {
    return new PendingOpStore(new RedisKV(redis), o);
  }

  private key(opId: string): string {
    return `${this.prefix}:op:${opId}`;
  }

  create(op: PendingOp): Promise<boolean> {
    return this.kv.putNew(this.key(op.opId), dump(op), this.ttlSeconds);
  }

  async get(opId: string): Promise<PendingOp | null> {
    const raw = await this.kv.get(this.key(opId));
    return raw === null ? null : load(raw);
  }

  /** Forgets an op (its dispatch failed: nothing will ever approve it). */
  discard(opId: string): Promise<void> {
    return this.kv.delete(this.key(opId));
  }

  /** The final status arrived: `approved` claims the op for its one replay (`reason === 'replaying'`). */
  claim(
    opId: string,
    status: string,
    approvals: Record<string, unknown>[] = [],
    eventId: string | null = null,
  ): Promise<Decision<PendingOp>> {
    return cas(this.kv, this.key(opId), this.ttlSeconds, { load, dump }, (op) => {
      if (!op) return { ok: false, reason: 'unknown' };
      if (op.status !== 'pending') return { ok: false, reason: 'already_final', record: op };
      const next = (status === 'approved' ? 'replaying' : status) as PendingOpStatus;
      return { ok: true, reason: next, record: { ...op, status: next, approvals, eventId: eventId ?? op.eventId, decidedAt: isoNow() } };
    });
  }

  /** Records the replay's outcome (`done` with its result, or `failed` with the error). */
  finish(opId: string, o: { result?: unknown; error?: string | null } = {}): Promise<Decision<PendingOp>> {
    return cas(this.kv, this.key(opId), this.ttlSeconds, { load, dump }, (op) => {
      if (!op || op.status !== 'replaying') return { ok: false, reason: 'not_replaying', ...(op ? { record: op } : {}) };
      const status = o.error ? 'failed' : 'done';
      return {
        ok: true,
        reason: status,
        record: { ...op, status, result: o.result ?? null, error: o.error ?? null, finishedAt: isoNow() },
      };
    });
  }

  close(): Promise<void> {
    return this.kv.close();
  }
}
