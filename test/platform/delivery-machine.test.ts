/**
 * The delivery table (models/platform/delivery-machine.ts) walked through the real code, against the
 * real FerretDB/MongoDB: each worker transition through `recordAttempt` (the guarded update the
 * table builds), the admin's replay through `replayDeadLetters`. Every move the table allows lands
 * on its state; every one it refuses for the state leaves the record as it was (no state change, no
 * attempt appended; a replay answers 409). A move the table refuses for its actor has no way in at
 * all: the worker's recordAttempt takes only attempt transitions, and nothing but the admin routes
 * replays — the table's refusal is checked for those.
 */
import assert from 'node:assert/strict';
import { DELIVERY_ACTORS, deliveryMachine } from '../../models/platform/delivery-machine.js';
import { replayDeadLetters } from '../../models/platform/delivery-admin.js';
import { recordAttempt, type DeliveryFacts } from '../../models/platform/delivery-records.js';
import { DeliveryModel, type DeliveryDoc, type DeliveryStatus } from '../../models/platform/delivery.js';
import { DomainError } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import { everyMove, IllegalTransition } from '../../platform/state-machine.js';
import { startRelay, type Relay } from '../support/harness.js';

describe('delivery state machine: every move through the real code', function () {
  this.timeout(120_000);
  let relay: Relay;
  const tenantId = `tnt_${'b'.repeat(24)}`;
  before(async () => {
    relay = await startRelay('delivery_machine');
  });
  after(async () => relay?.stop());

  /** A recorded delivery in `status`, with one attempt. */
  async function seed(status: DeliveryStatus): Promise<DeliveryFacts> {
    const eventId = newId('evt');
    const d: DeliveryFacts = {
      deliveryId: newId('dlv'),
      tenantId,
      eventId,
      eventType: 'platform.test',
      url: 'http://127.0.0.1:9/relay-callbacks/test',
      body: JSON.stringify({ event_id: eventId, event_type: 'platform.test', data: {} }),
      createdAt: Date.now(),
      replay: 0,
    };
    const at = new Date();
    await DeliveryModel.create({
      _id: d.deliveryId,
      tenant_id: tenantId,
      event_id: eventId,
      event_type: d.eventType,
      url: d.url,
      body: d.body,
      status,
      attempt_count: 1,
      attempts: [{ n: 1, at, duration_ms: 1, outcome: status === 'succeeded' ? 'success' : 'http_error', status_code: 500 }],
      delivered_at: status === 'succeeded' ? at : null,
      dead_at: status === 'dead' ? at : null,
    });
    return d;
  }
  const read = async (id: string) => (await DeliveryModel.findOne({ _id: id }).lean<DeliveryDoc>())!;

  it('legal moves land on the table state; illegal ones leave the record as it was', async () => {
    const failures: string[] = [];
    let made = 0;
    for (const m of everyMove(deliveryMachine, DELIVERY_ACTORS)) {
      const isAttempt = m.name !== 'replay';
      const hasWayIn = isAttempt ? m.actor === 'worker' : m.actor === 'admin';
      if (!hasWayIn) {
        assert.throws(
          () => deliveryMachine.next(m.name, m.state, m.actor),
          (e: unknown) => e instanceof IllegalTransition,
          `${m.name} by ${m.actor} is refused by the table`,
        );
        assert.equal(m.legal, false);
        continue;
      }
      const d = await seed(m.state);
      let outcome = 'made';
      if (m.name === 'replay') {
        outcome = await replayDeadLetters({ producer: relay.producer }, tenantId, { delivery_id: d.deliveryId })
          .then(() => 'made')
          .catch((e: unknown) => (e instanceof DomainError ? e.code : String(e)));
      } else {
        const attempt = {
          n: 2,
          at: new Date(),
          duration_ms: 2,
          outcome: 'http_error' as const,
          status_code: 503,
          error: null,
          response_body: null,
        };
        await recordAttempt(
          d,
          {
            transition: m.name,
            attempt,
            nextAttemptAt: m.name === 'retry' ? new Date(Date.now() + 60_000) : null,
            deadReason: m.to === 'dead' ? 'test' : null,
          },
          { first: false },
        );
      }
      const after = await read(d.deliveryId);
      const want = m.legal ? m.to : m.state;
      // An attempt is appended exactly when its transition was legal; a replay appends none.
      const attempts = m.legal && m.name !== 'replay' ? 2 : 1;
      if (
        after.status !== want ||
        after.attempts.length !== attempts ||
        (m.name === 'replay' && outcome !== (m.legal ? 'made' : 'CONFLICT'))
      )
        failures.push(`${m.name} from ${m.state} by ${m.actor}: ${outcome}, now ${after.status} with ${after.attempts.length} attempts`);
      if (m.legal) made++;
    }
    assert.deepEqual(failures, []);
    assert.equal(made, 6, 'every legal move was made');
  });
});
