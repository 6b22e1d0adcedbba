/**
 * The group commit (models/platform/batch-insert.ts) against the real store. Found by the sudo
 * benchmark: at 100 dispatches/s the finalize jobs' replaceOnes gathered into batches of 256, and
 * FerretDB v1 kept every statement's cursor open until the end of the update command — one SQLite
 * connection each, of 100 per database — so a batch of more than 100 updates that matched waited
 * forever for a connection, and with it every job behind it (the ApprovalEvents stopped). Fixed in
 * FerretDB (scripts/ferretdb/update-iterators.patch); this test fails, by timing out, without it.
 *
 * Found by the chaos test (issue 21): a delivery whose retry recorded success had no record at all.
 * Its upsert shared an unordered bulkWrite with one that met a final delivery (a duplicate _id, as
 * designed), and FerretDB v1 ended the update command at that first error — the statements after it
 * were never applied, and the error came back at index 0 — so the caller of a statement never applied
 * heard "written". Fixed in FerretDB (scripts/ferretdb/update-write-errors.patch), as MongoDB behaves;
 * the second test fails without it.
 */
import assert from 'node:assert/strict';
import mongoose from 'mongoose';
import { BatchInserter, BatchWriter, DuplicateKeyError } from '../../models/platform/batch-insert.js';
import { newId } from '../../platform/ids.js';
import { startRelay, type Relay } from '../support/harness.js';

describe('group-committed writes', () => {
  let relay: Relay;
  before(async () => {
    relay = await startRelay('batch_writes');
  });
  after(async () => relay?.stop());

  const coll = () => mongoose.connection.db!.collection('batch_write_checks');

  it('a batch of 300 updates of existing documents is written (one update command), and each caller learns its own', async function () {
    this.timeout(20_000);
    const tenant = `tnt_${'b'.repeat(24)}`;
    const ids = Array.from({ length: 300 }, () => newId('req'));
    const inserts = new BatchInserter(() => coll() as never);
    await Promise.all(ids.map((id) => inserts.insert({ _id: id, tenant_id: tenant, status: 'pending', n: 0 })));

    const writer = new BatchWriter(() => coll() as never);
    // All handed in within one event-loop turn: one batch, as the finalize jobs' writes were.
    const writes = Promise.all(
      ids.map((id, n) =>
        writer.write({
          replaceOne: { filter: { _id: id, tenant_id: tenant }, replacement: { tenant_id: tenant, status: 'approved', n }, upsert: true },
        }),
      ),
    );
    const timedOut = new Promise((_, reject) => setTimeout(() => reject(new Error('the batch of updates never returned')), 15_000).unref());
    await Promise.race([writes, timedOut]);

    const docs = await coll().find({ tenant_id: tenant }).toArray();
    assert.equal(docs.length, 300);
    assert.ok(
      docs.every((d) => d.status === 'approved'),
      'every document replaced',
    );
    assert.deepEqual(
      docs.map((d) => d.n).sort((a, b) => a - b),
      ids.map((_, n) => n),
    );
    // The store still answers afterwards (no connection left behind).
    assert.equal(await coll().countDocuments({ _id: ids[0] as never }), 1);
  });

  it('in an unordered batch a statement that fails fails alone: the others are applied, and its caller alone hears the error', async () => {
    const tenant = `tnt_${'c'.repeat(24)}`;
    const ids = Array.from({ length: 5 }, () => newId('req'));
    // ids[1] and ids[3] are already final: their guarded upserts meet the _id and fail (11000).
    await coll().insertMany([ids[1], ids[3]].map((id) => ({ _id: id as never, tenant_id: tenant, status: 'succeeded' })));
    const writer = new BatchWriter(() => coll() as never);
    const outcomes = await Promise.all(
      ids.map((id) =>
        writer
          .write({
            updateOne: {
              filter: { _id: id, tenant_id: tenant, status: 'pending' },
              update: { $set: { status: 'succeeded', by: 'batch' }, $inc: { attempt_count: 1 } } as never,
              upsert: true,
            },
          })
          .then(
            () => 'written',
            (err: unknown) => (err instanceof DuplicateKeyError ? 'duplicate' : String(err)),
          ),
      ),
    );
    assert.deepEqual(outcomes, ['written', 'duplicate', 'written', 'duplicate', 'written']);
    const docs = new Map((await coll().find({ tenant_id: tenant }).toArray()).map((d) => [String(d._id), d]));
    assert.deepEqual(
      ids.map((id) => docs.get(id)?.by ?? null),
      ['batch', null, 'batch', null, 'batch'],
      'every statement but the two that failed is applied',
    );
  });
});
