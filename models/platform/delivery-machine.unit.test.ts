/** The delivery table's guards, without services: the filters the records were guarded by before the table. */
import assert from 'node:assert/strict';
import { deliveryGuard, deliveryMachine } from './delivery-machine.js';

describe('delivery machine', () => {
  it("builds each transition's guard from its from-state", () => {
    for (const t of ['deliver', 'retry', 'deadLetter'] as const) assert.deepEqual(deliveryGuard(t), { status: 'pending' });
    for (const t of ['replay', 'deliverFromDead', 'failFromDead'] as const) assert.deepEqual(deliveryGuard(t), { status: 'dead' });
  });

  it('succeeded is final; a dead letter is replayed only by the admin', () => {
    assert.deepEqual(deliveryMachine.final, ['succeeded']);
    assert.equal(deliveryMachine.next('replay', 'dead', 'admin'), 'pending');
    assert.equal(deliveryMachine.can('replay', 'dead', 'worker'), false);
    assert.equal(deliveryMachine.can('deliver', 'pending', 'admin'), false);
  });
});
