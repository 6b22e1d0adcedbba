/**
 * A worker killed (SIGKILL) while a sudo event waits for its expiry: the expiry is a delayed BullMQ
 * job in Redis (the event id is its data, the record outlives the delay), so a new worker still ends
 * the event on time and sends the ApprovalEvent.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { provision, signed } from '../support/client.js';
import { eventually, spawnWorker, startRelay, type Relay } from '../support/harness.js';
import { newUserHash, pairDevice, startReceiver } from './support.js';

describe('auth relay: a sudo expiry survives a killed worker', function () {
  this.timeout(60_000);
  let relay: Relay;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  before(async () => {
    relay = await startRelay('sudo_crash');
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver?.close();
    await relay?.stop();
  });

  it('SIGKILL before the expiry is due: after a restart the event still expires on time (±2 s) with its ApprovalEvent', async () => {
    const creds = await provision(relay.baseUrl, { rate_limit_per_min: 10_000, callback_url_base: receiver.url });
    receiver.setSecret(creds.secret);
    const device = await pairDevice(relay.baseUrl, creds, newUserHash(), { backendUserId: 'crash-user' });
    const first = await spawnWorker(relay.env);
    const d = await signed(relay.baseUrl, creds, 'POST', '/relay/sudo/dispatch', {
      event_type: 'sudo_action',
      action_type: 'deletion',
      instruction_id: `ins-${randomBytes(6).toString('hex')}`,
      expected_action: 'delete_account',
      title: 'Delete the account',
      relay_user_linked_id_list: [String(device.state.pairing?.relay_user_linked_id)],
      data_access_type: 'static',
      data_items: [{ key: 'account', title: 'Account', value: 'ACC-1', data_type: 'ENTITY_REFERENCE' }],
      ttl_seconds: 10,
    });
    assert.equal(d.status, 201, JSON.stringify(d.body));
    // The worker has taken the event's persist job; now it dies without any chance to clean up.
    await eventually(async () => first.output().includes('workers started'));
    await new Promise((r) => setTimeout(r, 1000));
    await first.kill('SIGKILL');
    const second = await spawnWorker(relay.env);
    const secondReadyAt = Date.now();
    try {
      const cb = await eventually(
        async () =>
          receiver.received.find(
            (c) => c.headers['x-bloonio-event-type'] === 'sudo.approval_event' && c.body.data.event_id === d.body.data.event_id,
          ),
        20_000,
      );
      assert.equal(cb.signatureValid, true);
      assert.equal(cb.body.data.status, 'expired');
      // On time: within 2 s of the expiry, or of the moment a worker was there to act on it when the
      // restarted worker (on a loaded machine) came up only after the expiry was due.
      const expiresAt = Date.parse(d.body.data.expires_at);
      const late = Date.parse(cb.body.data.decided_at) - expiresAt;
      const noWorkerUntil = Math.max(0, secondReadyAt - expiresAt);
      assert.ok(late >= 0 && late < noWorkerUntil + 2000, `expired ${late} ms after its expiry (no worker for ${noWorkerUntil} ms of it)`);
      const fetched = await signed(relay.baseUrl, creds, 'GET', `/relay/sudo/fetch/event?event_id=${d.body.data.event_id}`);
      assert.equal(fetched.body.data.status, 'expired');
    } finally {
      await second.kill();
    }
  });
});
