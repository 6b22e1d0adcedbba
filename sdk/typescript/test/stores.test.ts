/**
 * SudoInstructionStore and PendingOpStore on both backends for real: memory, and the Redis that
 * with-services started (REDIS_URL). The records and the fingerprint are the Python SDK's, byte for
 * byte, so a Python and a Node backend of one tenant can share one Redis.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { fingerprint, MemoryKV, PendingOpStore, RedisKV, SudoInstructionStore, type KV } from '../src/index.js';
import { bindingOf, newInstruction } from '../src/stores/instructions.js';
import { newPendingOp } from '../src/stores/pending-ops.js';
import { sleep } from './support/relay.js';

const prefix = () => `tssdk_test_${randomBytes(4).toString('hex')}`;
const redisUrl = () => {
  if (!process.env.REDIS_URL) throw new Error('REDIS_URL must be set (run through scripts/with-services.sh)');
  return process.env.REDIS_URL;
};
const rec = (user = 'usr_a', action = 'transfer_funds', fp = 'fp1') =>
  newInstruction({
    instructionId: `sudo_${randomBytes(8).toString('hex')}`,
    userSocketHash: user,
    expectedAction: action,
    fingerprint: fp,
  });
const who = { userSocketHash: 'usr_a', expectedAction: 'transfer_funds', fingerprint: 'fp1' };

describe('the stores share the Python SDK’s records', () => {
  it('computes the same fingerprint as the Python SDK', () => {
    // bloonio_auth_relay_client.sudo.fingerprint('usr_a', 'transfer_funds', [{'key': 'amount', 'value': '120'}, {'key': 'to', 'value': 'Zoé Ünal 💶'}])
    assert.equal(
      fingerprint('usr_a', 'transfer_funds', [
        { key: 'amount', value: '120' },
        { key: 'to', value: 'Zoé Ünal 💶' },
      ]),
      'e492c054f667f466c090b013b77d3b7ca16b95bf6a9841129a19d797433c8fb6',
    );
  });

  it('writes the Python SDK’s instruction record under its key', async () => {
    const kv = new MemoryKV();
    const store = new SudoInstructionStore(kv, { prefix: 'bloonio_relay' });
    await store.create(
      {
        ...newInstruction({ instructionId: 'sudo_x', userSocketHash: 'usr_a', expectedAction: 'transfer_funds', fingerprint: 'fp1' }),
        createdAt: '2025-01-01T00:00:00.000Z',
      },
      60,
    );
    // Instruction('sudo_x', 'usr_a', 'transfer_funds', 'fp1', created_at='2025-01-01T00:00:00.000Z').dump()
    assert.equal(
      await kv.get('bloonio_relay:sudo:sudo_x'),
      '{"binding":null,"consumed_at":null,"created_at":"2025-01-01T00:00:00.000Z","custom_type":"localAuth","decided_at":null,"event_id":null,"expected_action":"transfer_funds","fingerprint":"fp1","instruction_id":"sudo_x","status":"pending","user_socket_hash":"usr_a"}',
    );
  });
});

for (const backend of ['memory', 'redis'] as const) {
  describe(`SudoInstructionStore on ${backend}`, () => {
    let store: SudoInstructionStore;
    const kvs: KV[] = [];
    beforeEach(() => {
      store =
        backend === 'memory'
          ? SudoInstructionStore.memory({ prefix: prefix(), recallTtlSeconds: 1 })
          : SudoInstructionStore.redis(redisUrl(), { prefix: prefix(), recallTtlSeconds: 1 });
      kvs.push(store.kv);
    });
    after(async () => {
      for (const kv of kvs) await kv.close();
    });

    it('an approved instruction passes once', async () => {
      const r = rec();
      assert.equal(await store.create(r, 60), true);
      assert.equal(await store.create(r, 60), false); // never overwritten
      assert.equal((await store.consume(r.instructionId, who)).reason, 'pending');
      const d = await store.resolve(r.instructionId, 'approved', {
        userSocketHash: 'usr_a',
        expectedAction: 'transfer_funds',
        eventId: 'chg_1',
      });
      assert.deepEqual([d.ok, d.reason], [true, 'validated']);
      assert.equal((await store.resolve(r.instructionId, 'denied')).reason, 'already_final'); // one final state
      assert.equal((await store.consume(r.instructionId, who)).ok, true);
      assert.equal((await store.consume(r.instructionId, who)).reason, 'reused');
      const got = await store.get(r.instructionId);
      assert.deepEqual([got?.status, got?.eventId], ['consumed', 'chg_1']);
    });

    it('denied, expired, cancelled, mismatched and unknown keys are refused', async () => {
      for (const status of ['denied', 'expired', 'cancelled']) {
        const r = rec();
        await store.create(r, 60);
        await store.resolve(r.instructionId, status);
        assert.equal((await store.consume(r.instructionId, who)).reason, status);
      }
      const r = rec();
      await store.create(r, 60);
      // An event naming another user or action does not validate it.
      assert.equal((await store.resolve(r.instructionId, 'approved', { userSocketHash: 'usr_b' })).reason, 'mismatch');
      assert.equal((await store.resolve(r.instructionId, 'approved', { expectedAction: 'delete_all' })).reason, 'mismatch');
      await store.resolve(r.instructionId, 'approved');
      // A validated key opens nothing else: another user, another action, other content.
      assert.equal((await store.consume(r.instructionId, { ...who, userSocketHash: 'usr_b' })).reason, 'mismatch');
      assert.equal((await store.consume(r.instructionId, { ...who, expectedAction: 'delete_all' })).reason, 'mismatch');
      assert.equal((await store.consume(r.instructionId, { ...who, fingerprint: 'fp2' })).reason, 'mismatch');
      assert.equal((await store.consume(r.instructionId, who)).ok, true); // the mismatches did not burn it
      assert.equal((await store.consume('sudo_nope', who)).reason, 'unknown');
    });

    it('a totp / goldenNumber instruction: approved → awaiting_response; only a match from its session validates it', async () => {
      for (const customType of ['totp', 'goldenNumber']) {
        const r = { ...rec(), customType, binding: bindingOf('session:s1') };
        await store.create(r, 60);
        assert.equal((await store.match(r.instructionId, bindingOf('session:s1'))).reason, 'validated'); // the relay said approved first
        const r2 = { ...rec(), customType, binding: bindingOf('session:s1') };
        await store.create(r2, 60);
        assert.deepEqual(await store.resolve(r2.instructionId, 'approved').then((d) => [d.ok, d.reason]), [true, 'awaiting_response']);
        assert.equal((await store.consume(r2.instructionId, who)).reason, 'awaiting_response');
        assert.equal((await store.match(r2.instructionId, bindingOf('session:s2'))).reason, 'mismatch');
        assert.equal((await store.match(r2.instructionId, null)).reason, 'mismatch');
        assert.equal((await store.consume(r2.instructionId, who)).reason, 'awaiting_response');
        assert.equal((await store.match(r2.instructionId, bindingOf('session:s1'))).reason, 'validated');
        assert.equal((await store.match(r2.instructionId, bindingOf('session:s1'))).reason, 'already_final');
        assert.equal((await store.consume(r2.instructionId, who)).ok, true);
        const raw = JSON.parse((await store.kv.get(`${store.prefix}:sudo:${r2.instructionId}`))!);
        assert.deepEqual([raw.custom_type, raw.binding, raw.status], [customType, bindingOf('session:s1'), 'consumed']);
      }
      // A localAuth instruction takes no typed code: match never validates it.
      const l = { ...rec(), binding: bindingOf('session:s1') };
      await store.create(l, 60);
      assert.equal((await store.match(l.instructionId, bindingOf('session:s1'))).reason, 'mismatch');
      assert.equal((await store.consume(l.instructionId, who)).reason, 'pending');
    });

    it('the re-call window expires', async () => {
      const r = rec();
      await store.create(r, 60);
      await store.resolve(r.instructionId, 'approved');
      await sleep(1200); // recallTtlSeconds: 1
      assert.equal((await store.consume(r.instructionId, who)).reason, 'unknown');
    });

    it('concurrent re-calls pass exactly once', async () => {
      const r = rec();
      await store.create(r, 60);
      await store.resolve(r.instructionId, 'approved');
      // On Redis, eight connections, as eight processes of the backend would have.
      const stores =
        backend === 'memory'
          ? Array.from({ length: 8 }, () => store)
          : Array.from(
              { length: 8 },
              () => new SudoInstructionStore(new RedisKV(redisUrl()), { prefix: store.prefix, recallTtlSeconds: 1 }),
            );
      if (backend === 'redis') kvs.push(...stores.map((s) => s.kv));
      const results = await Promise.all(stores.map((s) => s.consume(r.instructionId, who)));
      assert.deepEqual(results.map((d) => d.ok).sort(), [false, false, false, false, false, false, false, true]);
      assert.deepEqual(new Set(results.filter((d) => !d.ok).map((d) => d.reason)), new Set(['reused']));
    });

    it('remembers what it has seen (callback signatures)', async () => {
      assert.equal(await store.firstTime('sig', 'abc', 5), true);
      assert.equal(await store.firstTime('sig', 'abc', 5), false);
    });
  });

  describe(`PendingOpStore on ${backend}`, () => {
    let ops: PendingOpStore;
    beforeEach(() => {
      ops = backend === 'memory' ? PendingOpStore.memory({ prefix: prefix() }) : PendingOpStore.redis(redisUrl(), { prefix: prefix() });
    });
    afterEach(() => ops.close());

    it('a pending op is replayed once when approved', async () => {
      const op = newPendingOp({
        opId: `sudo_${randomBytes(8).toString('hex')}`,
        action: 'delete_project',
        payload: { project_id: 'p1', hard: true },
      });
      assert.equal(await ops.create(op), true);
      assert.equal(await ops.create(op), false);
      const got = await ops.get(op.opId);
      assert.deepEqual([got?.payload, got?.status], [{ project_id: 'p1', hard: true }, 'pending']);
      const approvals = [{ who: { relayUserLinkedId: 'a'.repeat(24) }, decision: 'approve' }];
      const first = await ops.claim(op.opId, 'approved', approvals);
      assert.deepEqual([first.ok, first.reason], [true, 'replaying']);
      assert.equal((await ops.claim(op.opId, 'approved')).reason, 'already_final'); // a redelivered event replays nothing
      assert.equal((await ops.finish(op.opId, { result: { deleted: 'p1' } })).reason, 'done');
      const done = await ops.get(op.opId);
      assert.deepEqual([done?.status, done?.result, done?.approvals], ['done', { deleted: 'p1' }, approvals]);
      // Stored as the Python SDK stores it: snake_case, the approvals as the relay sent them.
      const raw = JSON.parse((await ops.kv.get(`${ops.prefix}:op:${op.opId}`))!);
      assert.deepEqual(Object.keys(raw).sort(), [
        'action',
        'approvals',
        'created_at',
        'decided_at',
        'error',
        'event_id',
        'finished_at',
        'op_id',
        'payload',
        'requested_by',
        'result',
        'status',
      ]);
      assert.equal(raw.approvals[0].who.relay_user_linked_id, 'a'.repeat(24));
    });

    it('a denied op is never replayed; a failed replay is recorded', async () => {
      const op = newPendingOp({ opId: `sudo_${randomBytes(8).toString('hex')}`, action: 'delete_project', payload: { project_id: 'p2' } });
      await ops.create(op);
      assert.equal((await ops.claim(op.opId, 'denied')).reason, 'denied');
      assert.equal((await ops.claim(op.opId, 'approved')).reason, 'already_final');
      assert.equal((await ops.finish(op.opId, { result: 1 })).reason, 'not_replaying');
      const failing = newPendingOp({ opId: `sudo_${randomBytes(8).toString('hex')}`, action: 'a', payload: { x: 1 } });
      await ops.create(failing);
      await ops.claim(failing.opId, 'approved');
      assert.equal((await ops.finish(failing.opId, { error: 'boom' })).reason, 'failed');
      assert.equal((await ops.get(failing.opId))?.error, 'boom');
    });
  });
}
