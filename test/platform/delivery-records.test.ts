/**
 * The delivery record when a job's earlier run recorded nothing (found by the durability test: the
 * first run failed on Redis still loading its AOF, before any POST; the retry POSTed, answered 200,
 * completed the job — and left no event and no delivery in MongoDB, because a retry only updated a
 * record that did not exist). A later attempt now creates the records it finds missing, and still
 * never moves a delivery that is already final. Against the real FerretDB/MongoDB.
 */
import assert from 'node:assert/strict';
import mongoose from 'mongoose';
import { recordAttempt, type DeliveryFacts, type Outcome } from '../../models/platform/delivery-records.js';
import { newId } from '../../platform/ids.js';
import { startRelay, type Relay } from '../support/harness.js';

const facts = (): DeliveryFacts => {
  const eventId = newId('evt');
  return {
    deliveryId: newId('dlv'),
    tenantId: `tnt_${'a'.repeat(24)}`,
    eventId,
    eventType: 'platform.test',
    url: 'http://127.0.0.1:9/relay-callbacks/test',
    body: JSON.stringify({ event_id: eventId, event_type: 'platform.test', data: { note: 'n' } }),
    createdAt: Date.now(),
    replay: 0,
  };
};
const outcome = (n: number, transition: Outcome['transition'], code: number): Outcome => ({
  transition,
  attempt: {
    n,
    at: new Date(),
    duration_ms: 3,
    outcome: code === 200 ? 'success' : 'http_error',
    status_code: code,
    error: null,
    response_body: null,
  },
  nextAttemptAt: transition === 'retry' ? new Date(Date.now() + 5000) : null,
  deadReason: null,
});

describe('delivery records: a retry whose earlier run recorded nothing', () => {
  let relay: Relay;
  before(async () => {
    relay = await startRelay('delivery_records');
  });
  after(async () => relay?.stop());

  const db = () => mongoose.connection.db!;

  it('a later attempt with no record before it creates the delivery and its event', async () => {
    const d = facts();
    await recordAttempt(d, outcome(2, 'deliver', 200), { first: false });
    const delivery = await db()
      .collection('deliveries')
      .findOne({ _id: d.deliveryId as never });
    const event = await db()
      .collection('events')
      .findOne({ _id: d.eventId as never });
    assert.ok(delivery && event, 'both recorded');
    assert.equal(delivery.status, 'succeeded');
    assert.equal(delivery.event_id, d.eventId);
    assert.equal(delivery.body, d.body);
    assert.equal(delivery.attempt_count, 1);
    assert.deepEqual(event.data, { note: 'n' });
  });

  it('later attempts append to an existing record, and a final delivery keeps its state (one record, one event)', async () => {
    const d = facts();
    await recordAttempt(d, outcome(1, 'retry', 503), { first: true });
    await recordAttempt(d, outcome(2, 'deliver', 200), { first: false });
    // A duplicate run after the delivery succeeded (e.g. its job retried after a Redis blip at completion).
    await recordAttempt(d, outcome(3, 'retry', 503), { first: false });
    const all = await db()
      .collection('deliveries')
      .find({ _id: d.deliveryId as never })
      .toArray();
    assert.equal(all.length, 1);
    assert.equal(all[0]!.status, 'succeeded');
    assert.deepEqual(
      all[0]!.attempts.map((a: { status_code: number }) => a.status_code),
      [503, 200],
    );
    assert.equal(
      await db()
        .collection('events')
        .countDocuments({ _id: d.eventId as never }),
      1,
    );
  });
});
