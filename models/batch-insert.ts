/**
 * Group commit for hot inserts. FerretDB v1 (SQLite backend) spends most of its CPU per write
 * round trip, not per document: under the push benchmark one insert per challenge and one per push
 * kept it at ~70% of a core for ~300 inserts/s. A BatchInserter gathers the inserts of concurrent
 * callers for a few milliseconds and writes them with one unordered insertMany. Each caller's promise
 * settles when its own document is written, or rejects with its own error (e.g. a duplicate key,
 * code 11000), so callers keep the semantics of a single insert. Nothing is acknowledged before it
 * is written; the buffer holds only in-flight calls.
 */
import type { Collection } from 'mongoose';

type Pending = { doc: Record<string, unknown>; resolve: () => void; reject: (e: unknown) => void };

export class DuplicateKeyError extends Error {
  readonly code = 11000;
}

export class BatchInserter {
  private batch: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly collection: () => Collection,
    private readonly everyMs = 5,
    private readonly maxBatch = 200,
  ) {}

  insert(doc: Record<string, unknown>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.batch.push({ doc, resolve, reject });
      if (this.batch.length >= this.maxBatch) void this.flush();
      else this.timer ??= setTimeout(() => void this.flush(), this.everyMs);
    });
  }

  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.batch;
    this.batch = [];
    if (!batch.length) return;
    try {
      await this.collection().insertMany(batch.map((b) => b.doc) as never[], { ordered: false });
      for (const b of batch) b.resolve();
    } catch (err) {
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
  }
}
