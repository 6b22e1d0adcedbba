/**
 * Group commit for hot writes. FerretDB v1 (SQLite backend) spends most of its CPU per write
 * round trip, not per document: under the push benchmark one insert per challenge and one per push
 * kept it at ~70% of a core for ~300 inserts/s. A BatchInserter writes what its callers hand it with
 * one unordered insertMany, one write at a time: when idle it writes at once (at the end of the
 * current event-loop turn, so callers of the same turn share it); while a write is in flight, new
 * documents gather and go together as soon as it returns. So a lone insert waits for nothing, and
 * under load batches grow with the store's latency instead of the store's queue.
 *
 * Each caller's promise settles when its own document is written, or rejects with its own error
 * (e.g. a duplicate key, code 11000), so callers keep the semantics of a single insert. Nothing is
 * acknowledged before it is written; the buffer holds only in-flight calls.
 */
import type { Collection, mongo } from 'mongoose';
import { withTimeout } from '../../platform/with-timeout.js';

/** Our documents have string ids (prefixed, sortable), never ObjectIds. */
type AnyBulkWriteOperation = mongo.AnyBulkWriteOperation<{ _id: string; [field: string]: unknown }>;

type Pending<T> = { item: T; resolve: () => void; reject: (e: unknown) => void };

export class DuplicateKeyError extends Error {
  readonly code = 11000;
}

/** A batch write the store did not answer within the bound: its callers fail as if the store were down. */
export class StoreTimeoutError extends Error {
  override readonly name = 'StoreTimeoutError';
}

let writeTimeoutMs = 30_000;

/**
 * How long one batch write may go unanswered (STORE_WRITE_TIMEOUT_MS, set by the API and worker
 * entry points before they connect; 30 s otherwise). Writes go one at a time per writer, so a write
 * that never answers (a connection the store stopped answering on, across a restart) would hold
 * every later write of the process behind it, and every job waiting on one, for good: a worker that
 * looks alive and renews its jobs' locks, with nothing moving. Past the bound its callers fail (their
 * jobs retry) and the next batch goes ahead. The late write may still land: ids are fixed, so a retry
 * meets it as a duplicate, which every caller already handles as "written before".
 */
export function setStoreWriteTimeout(ms: number): void {
  writeTimeoutMs = ms;
}

/** The scheduling both writers share: one write in flight, the next batch gathering behind it. */
abstract class GroupCommit<T> {
  private batch: Pending<T>[] = [];
  private writing = false;
  private scheduled = false;

  constructor(private readonly maxBatch = 500) {}

  /** Writes the items of one batch in one round trip; a partial failure throws with `writeErrors`. */
  protected abstract writeBatch(items: T[]): Promise<unknown>;

  protected add(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.batch.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once everything handed in so far has been written (or has failed): for shutdown. */
  async flush(): Promise<void> {
    while (this.writing || this.scheduled || this.batch.length) await new Promise((r) => setTimeout(r, 5));
  }

  private schedule(): void {
    if (this.writing || this.scheduled || !this.batch.length) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.writeNext();
    });
  }

  private async writeNext(): Promise<void> {
    if (this.writing) return;
    const batch = this.batch.splice(0, this.maxBatch);
    if (!batch.length) return;
    this.writing = true;
    const ms = writeTimeoutMs;
    try {
      // Answered after the bound: its callers were failed already (see setStoreWriteTimeout).
      await withTimeout(
        this.writeBatch(batch.map((b) => b.item)),
        ms,
        () => new StoreTimeoutError(`a batch write got no answer within ${ms} ms`),
      );
      for (const b of batch) b.resolve();
    } catch (err) {
      settleFailed(batch, err);
    } finally {
      this.writing = false;
      this.schedule();
    }
  }
}

/** Hot inserts: one unordered insertMany per batch. */
export class BatchInserter extends GroupCommit<Record<string, unknown>> {
  constructor(
    private readonly collection: () => Collection,
    maxBatch = 500,
  ) {
    super(maxBatch);
  }

  insert(doc: Record<string, unknown>): Promise<void> {
    return this.add(doc);
  }

  /**
   * For records written under ids minted earlier, which a retried job writes again: true when this
   * call inserted the document, false when its _id was already there (any other error rejects).
   */
  insertOnce(doc: Record<string, unknown>): Promise<boolean> {
    return this.add(doc).then(
      () => true,
      (err: unknown) => (err instanceof DuplicateKeyError ? false : Promise.reject(err)),
    );
  }

  protected writeBatch(docs: Record<string, unknown>[]) {
    return this.collection().insertMany(docs as never[], { ordered: false });
  }
}

/** Any write (upserts, guarded updates): one unordered bulkWrite per batch. */
export class BatchWriter extends GroupCommit<AnyBulkWriteOperation> {
  constructor(
    private readonly collection: () => Collection,
    maxBatch = 500,
  ) {
    super(maxBatch);
  }

  write(op: AnyBulkWriteOperation): Promise<void> {
    return this.add(op);
  }

  protected writeBatch(ops: AnyBulkWriteOperation[]) {
    return this.collection().bulkWrite(ops as never[], { ordered: false });
  }
}

function settleFailed<T>(batch: Pending<T>[], err: unknown): void {
  const writeErrors = (err as { writeErrors?: { index: number; code?: number }[] }).writeErrors;
  if (!writeErrors?.length) {
    for (const b of batch) b.reject(err); // the whole write failed (store down)
    return;
  }
  const failed = new Map(writeErrors.map((w) => [w.index, w]));
  batch.forEach((b, i) => {
    const w = failed.get(i);
    if (!w) b.resolve();
    else b.reject(w.code === 11000 ? new DuplicateKeyError('duplicate key') : err);
  });
}
