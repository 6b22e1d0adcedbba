/** The state-machine table's own rules, without services. */
import assert from 'node:assert/strict';
import { defineMachine, everyMove, IllegalTransition } from './state-machine.js';

const door = defineMachine({
  name: 'door',
  states: ['open', 'closed', 'gone'],
  final: ['gone'],
  transitions: {
    close: { from: ['open'], to: 'closed', by: ['anyone'], why: 'test' },
    open: { from: ['closed'], to: 'open', by: ['owner'], why: 'test' },
    remove: { from: ['open', 'closed'], to: 'gone', by: ['owner'], why: 'test' },
  },
});

describe('state machine table', () => {
  it('moves by name and refuses the wrong state or actor', () => {
    assert.equal(door.next('close', 'open', 'anyone'), 'closed');
    assert.throws(
      () => door.next('close', 'closed', 'anyone'),
      (e: unknown) => e instanceof IllegalTransition && e.reason === 'state',
    );
    assert.throws(
      () => door.next('open', 'closed', 'anyone'),
      (e: unknown) => e instanceof IllegalTransition && e.reason === 'actor',
    );
  });

  it('refuses a table that leaves a final state or names an unknown one', () => {
    assert.throws(() =>
      defineMachine({ name: 'bad', states: ['a', 'b'], final: ['b'], transitions: { t: { from: ['b'], to: 'a', by: ['x'], why: '' } } }),
    );
    assert.throws(() =>
      defineMachine({ name: 'bad', states: ['a'], final: [], transitions: { t: { from: ['a'], to: 'z' as 'a', by: ['x'], why: '' } } }),
    );
  });

  it('lists every move for a walking test', () => {
    const moves = everyMove(door, ['anyone', 'owner']);
    assert.equal(moves.length, 3 * 3 * 2);
    assert.equal(moves.filter((m) => m.legal).length, 4);
  });
});
