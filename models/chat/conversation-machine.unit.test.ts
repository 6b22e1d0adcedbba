/**
 * The conversation table's guards, without services: the MongoDB filter each action is built from
 * the table is the one the handlers used before the table existed (take, release, resolve by an
 * agent or an admin, escalate, reopen), and a change nobody may make gets no filter at all.
 */
import assert from 'node:assert/strict';
import { conversationGuard, conversationMachine } from './conversation-machine.js';

const agent = { kind: 'operator', operatorId: 'op_a', admin: false } as const;
const admin = { kind: 'operator', operatorId: 'op_b', admin: true } as const;

describe('conversation machine guards', () => {
  it('take: from the queue, any operator', () => {
    assert.deepEqual(conversationGuard(['take'], agent), { filter: { status: 'pending' }, to: 'assigned' });
    assert.deepEqual(conversationGuard(['take'], admin), { filter: { status: 'pending' }, to: 'assigned' });
  });

  it('release: only the assignee, whatever its role', () => {
    for (const who of [agent, admin])
      assert.deepEqual(conversationGuard(['release'], who), {
        filter: { status: 'assigned', assignee_operator_id: who.operatorId },
        to: 'pending',
      });
  });

  it('resolve: an agent only its own; an admin any open conversation', () => {
    assert.deepEqual(conversationGuard(['resolve', 'close'], agent), {
      filter: { status: 'assigned', assignee_operator_id: 'op_a' },
      to: 'resolved',
    });
    assert.deepEqual(conversationGuard(['resolve', 'close'], admin), {
      filter: { status: { $in: ['bot', 'pending', 'assigned'] } },
      to: 'resolved',
    });
  });

  it('escalate from the bot lane by the bot, the backend or the relay; reopen by the visitor', () => {
    for (const kind of ['bot', 'backend', 'system'] as const)
      assert.deepEqual(conversationGuard(['escalate'], { kind }), { filter: { status: 'bot' }, to: 'pending' });
    assert.deepEqual(conversationGuard(['reopen'], { kind: 'visitor' }), { filter: { status: 'resolved' }, to: 'pending' });
  });

  it('no filter for a change its actor may not make', () => {
    assert.equal(conversationGuard(['take'], { kind: 'visitor' }), null);
    assert.equal(conversationGuard(['escalate'], agent), null);
    assert.equal(conversationGuard(['reopen'], admin), null);
    assert.equal(conversationGuard(['close'], agent), null);
  });

  it('refuses transitions that lead to different states in one change', () => {
    assert.throws(() => conversationGuard(['take', 'release'], agent));
  });

  it('nothing is final: a resolved conversation reopens', () => {
    assert.deepEqual(conversationMachine.final, []);
    assert.equal(conversationMachine.next('reopen', 'resolved', 'visitor'), 'pending');
  });
});
