/**
 * The console's audit log: who did what, when, from where (IP and user agent), per workspace (and
 * per account, for its own security events). Every change the console makes is written here before
 * its answer, and read back in the console.
 *
 * FerretDB indexes only `_id`, so entries are stored in buckets of BUCKET entries (MongoDB's bucket
 * pattern), `_id` = `${ownerId}:${bucket}`: the owner document's `audit_seq` is bumped ($inc, one
 * `_id` update) to number the entry, and the entry is pushed into bucket floor((seq-1)/BUCKET) (one
 * `_id` upsert). Reading the newest page is one or two `_id` lookups, with no scan and no index.
 *
 * Tamper evidence: entries are chained per owner. Each entry holds `prev_hash` (the hash of the
 * entry before it) and `hash` = SHA-256 over prev_hash and the entry's own fields; the owner
 * document keeps the newest hash (`audit_head`) beside `audit_seq`, and both move in one
 * compare-and-set (retried when another entry got there first), so the numbering and the chain
 * cannot fork. Deleting, altering or reordering an entry breaks the chain at that point, and
 * `verifyAuditChain` says where. (Whoever can rewrite the owner document and every later entry can
 * forge a new chain: keep exported heads somewhere else to detect that too.)
 */
import { createHash } from 'node:crypto';
import { Schema, model, type InferSchemaType } from 'mongoose';
import { DomainError } from '../../platform/errors.js';
import { AccountModel } from './account.js';
import { WorkspaceModel } from './workspace.js';

const BUCKET = 100;

const entrySchema = new Schema(
  {
    seq: { type: Number, required: true },
    at: { type: Date, required: true },
    actor_id: { type: String, default: null },
    actor_email: { type: String, default: null },
    /** A closed vocabulary of dotted names, e.g. `tenant.secret_rotated`, `member.removed`. */
    action: { type: String, required: true },
    /** What it was done to: a tenant id, an account id, an invitation id … */
    target: { type: String, default: null },
    /** Which fields changed and similar facts; never a secret, a code or a token. */
    details: { type: Schema.Types.Mixed, default: {} },
    ip: { type: String, default: null },
    user_agent: { type: String, default: null },
    /** The chain: the previous entry's hash ('' for the first), and this entry's. Absent on entries written before chaining. */
    prev_hash: { type: String, default: null },
    hash: { type: String, default: null },
  },
  { _id: false },
);

const bucketSchema = new Schema(
  {
    _id: { type: String, required: true },
    owner_id: { type: String, required: true },
    entries: { type: [entrySchema], default: [] },
  },
  { versionKey: false, collection: 'console_audit' },
);

export type AuditEntry = InferSchemaType<typeof entrySchema>;
type BucketDoc = { _id: string; entries: AuditEntry[] };
export const AuditBucketModel = model('ConsoleAuditBucket', bucketSchema);

export type AuditWho = { accountId: string | null; email: string | null; ip: string | null; userAgent: string | null };
export type AuditWhat = { action: string; target?: string | null; details?: Record<string, unknown> };

const bucketId = (ownerId: string, n: number) => `${ownerId}:${n}`;

/** JSON with object keys sorted, so a hash does not depend on how the store ordered them. */
function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v ?? null);
  if (v instanceof Date) return JSON.stringify(v.toISOString());
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined) // the store drops undefined fields
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(',')}}`;
}

export function entryHash(ownerId: string, e: Omit<AuditEntry, 'hash'>): string {
  const fields = [ownerId, e.seq, e.at, e.actor_id, e.actor_email, e.action, e.target, e.details ?? {}, e.ip, e.user_agent];
  return createHash('sha256')
    .update(`${e.prev_hash ?? ''}\n${canonical(fields)}`)
    .digest('hex');
}

type Head = { audit_seq?: number | null; audit_head?: string | null };
const ownerModel = (owner: { workspaceId: string } | { accountId: string }) =>
  ('workspaceId' in owner ? WorkspaceModel : AccountModel) as unknown as typeof WorkspaceModel;

export async function recordAudit(owner: { workspaceId: string } | { accountId: string }, who: AuditWho, what: AuditWhat): Promise<void> {
  const ownerId = 'workspaceId' in owner ? owner.workspaceId : owner.accountId;
  const M = ownerModel(owner);
  for (let attempt = 0; attempt < 16; attempt++) {
    const head = await M.findById(ownerId).lean<Head>();
    if (!head) return; // the owner is gone: nothing left to audit
    const last = head.audit_seq ?? 0;
    const base = {
      seq: last + 1,
      at: new Date(),
      actor_id: who.accountId,
      actor_email: who.email,
      action: what.action,
      target: what.target ?? null,
      details: what.details ?? {},
      ip: who.ip,
      user_agent: who.userAgent?.slice(0, 300) ?? null,
      prev_hash: head.audit_head ?? '',
    };
    const entry: AuditEntry = { ...base, hash: entryHash(ownerId, base) };
    // The number and the head move together, from the values just read: a concurrent entry makes this one retry.
    const moved = await M.updateOne(
      { _id: ownerId, audit_seq: head.audit_seq ?? 0 },
      { $set: { audit_seq: entry.seq, audit_head: entry.hash } },
    );
    if (moved.modifiedCount !== 1) continue;
    const n = Math.floor((entry.seq - 1) / BUCKET);
    await AuditBucketModel.updateOne(
      { _id: bucketId(ownerId, n) },
      { $setOnInsert: { owner_id: ownerId }, $push: { entries: entry } },
      { upsert: true },
    );
    return;
  }
  throw new DomainError('STORE_UNAVAILABLE', 'The audit log is being written by many requests at once; try again.', [], 1);
}

export type ChainCheck = { ok: boolean; entries: number; unchained: number; problem?: string; at_seq?: number };

/**
 * Walks an owner's whole log from the first entry: every number present once, each entry's
 * prev_hash the hash of the one before, each hash recomputed, and the last one the owner's head.
 * Entries written before chaining (no hash) may only come first; they are counted, not checked.
 */
export async function verifyAuditChain(owner: { workspaceId: string } | { accountId: string }): Promise<ChainCheck> {
  const ownerId = 'workspaceId' in owner ? owner.workspaceId : owner.accountId;
  const head = await ownerModel(owner).findById(ownerId).lean<Head>();
  const latest = head?.audit_seq ?? 0;
  const all: AuditEntry[] = [];
  for (let n = 0; n <= Math.floor((latest - 1) / BUCKET); n++) {
    const b = await AuditBucketModel.findById(bucketId(ownerId, n)).lean<BucketDoc>();
    all.push(...(b?.entries ?? []));
  }
  all.sort((x, y) => x.seq - y.seq);
  let prev: string | null = null;
  let unchained = 0;
  const bad = (problem: string, seq: number): ChainCheck => ({ ok: false, entries: all.length, unchained, problem, at_seq: seq });
  for (let i = 0; i < all.length; i++) {
    const e = all[i] as AuditEntry;
    if (e.seq !== i + 1) return bad(`entry ${i + 1} is missing (or numbered twice)`, i + 1);
    if (!e.hash) {
      if (prev !== null) return bad('an entry without a hash inside the chain', e.seq);
      unchained++;
      continue;
    }
    if (prev !== null && e.prev_hash !== prev) return bad('the entry before it was changed or removed', e.seq);
    if (entryHash(ownerId, e) !== e.hash) return bad('the entry was changed', e.seq);
    prev = e.hash;
  }
  if (all.length !== latest) return bad(`the log ends at ${all.length} but ${latest} entries were written`, all.length + 1);
  if (prev !== null && prev !== (head?.audit_head ?? null)) return bad('the newest entries were removed', latest);
  return { ok: true, entries: all.length, unchained };
}

/** Newest first: up to `limit` entries numbered below `before` (default: all), from a latest sequence number. */
export async function readAudit(
  ownerId: string,
  latestSeq: number,
  opts: { before?: number | undefined; limit: number },
): Promise<AuditEntry[]> {
  const top = Math.min(latestSeq, (opts.before ?? latestSeq + 1) - 1);
  const out: AuditEntry[] = [];
  for (let n = Math.floor((top - 1) / BUCKET); n >= 0 && out.length < opts.limit; n--) {
    const b = await AuditBucketModel.findById(bucketId(ownerId, n)).lean<BucketDoc>();
    const rows = (b?.entries ?? []).filter((e) => e.seq <= top).sort((x, y) => y.seq - x.seq);
    out.push(...rows.slice(0, opts.limit - out.length));
  }
  return out;
}

export function toPublicAudit(e: AuditEntry) {
  return {
    seq: e.seq,
    at: e.at.toISOString(),
    actor_id: e.actor_id ?? null,
    actor_email: e.actor_email ?? null,
    action: e.action,
    target: e.target ?? null,
    details: (e.details ?? {}) as Record<string, unknown>,
    ip: e.ip ?? null,
    user_agent: e.user_agent ?? null,
  };
}
