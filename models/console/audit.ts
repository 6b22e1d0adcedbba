/**
 * The console's audit log: who did what, when, from where (IP and user agent), per workspace (and
 * per account, for its own security events). Every change the console makes is written here before
 * its answer, and read back in the console.
 *
 * FerretDB indexes only `_id`, so entries are stored in buckets of BUCKET entries (MongoDB's bucket
 * pattern), `_id` = `${ownerId}:${bucket}`: the owner document's `audit_seq` is bumped ($inc, one
 * `_id` update) to number the entry, and the entry is pushed into bucket floor((seq-1)/BUCKET) (one
 * `_id` upsert). Reading the newest page is one or two `_id` lookups, with no scan and no index.
 */
import { Schema, model, type InferSchemaType } from 'mongoose';
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

export async function recordAudit(owner: { workspaceId: string } | { accountId: string }, who: AuditWho, what: AuditWhat): Promise<void> {
  const ownerId = 'workspaceId' in owner ? owner.workspaceId : owner.accountId;
  const bumped =
    'workspaceId' in owner
      ? await WorkspaceModel.findOneAndUpdate({ _id: ownerId }, { $inc: { audit_seq: 1 } }, { new: true }).lean<{
          audit_seq: number;
        }>()
      : await AccountModel.findOneAndUpdate({ _id: ownerId }, { $inc: { audit_seq: 1 } }, { new: true }).lean<{
          audit_seq: number;
        }>();
  // (No projection: FerretDB v1's findAndModify does not take one.)
  if (!bumped) return; // the owner is gone: nothing left to audit
  const seq = bumped.audit_seq;
  const entry: AuditEntry = {
    seq,
    at: new Date(),
    actor_id: who.accountId,
    actor_email: who.email,
    action: what.action,
    target: what.target ?? null,
    details: what.details ?? {},
    ip: who.ip,
    user_agent: who.userAgent?.slice(0, 300) ?? null,
  };
  const n = Math.floor((seq - 1) / BUCKET);
  await AuditBucketModel.updateOne(
    { _id: bucketId(ownerId, n) },
    { $setOnInsert: { owner_id: ownerId }, $push: { entries: entry } },
    { upsert: true },
  );
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
