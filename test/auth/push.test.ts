/**
 * Auth Relay push over FCM, end to end: the real firebase-admin client (platform/fcm.ts) in the real
 * BullMQ push worker, talking HTTPS to a local fake of FCM HTTP v1 and Google's OAuth token endpoint
 * (test/fakes/fcm-server.ts). Only the network destination is swapped (the fake's https.Agent, the
 * worker's test-only injection point); everything else is the production path.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { TenantStore } from '../../models/platform/tenant-store.js';
import { createOutboundHttp } from '../../platform/outbound-http.js';
import { auditLogger } from '../support/log-audit.js';
import { workerRedis } from '../../platform/redis.js';
import { createProcessors } from '../../workers/processors.js';
import { startWorkers, type WorkerFleet } from '../../workers/runtime.js';
import { DeviceClient } from '../../scripts/device.js';
import { call, provision, signed, type TenantCreds } from '../support/client.js';
import { eventually, startRelay, type Relay } from '../support/harness.js';
import { FakeFcmServer, createTestServiceAccount, fcmError, type FakeGoogleAgent } from '../fakes/fcm-server.js';
import { challengeBody, newUserHash, pairDevice, seedPairingBody, startReceiver } from './support.js';

describe('auth relay: push challenges through firebase-admin to a fake FCM', function () {
  this.timeout(40_000);
  const account = createTestServiceAccount('bloonio-push-test');
  let fake: FakeFcmServer;
  let agent: FakeGoogleAgent;
  let relay: Relay;
  let fleet: WorkerFleet;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let creds: TenantCreds;
  const closers: (() => Promise<unknown> | void)[] = [];

  before(async () => {
    fake = new FakeFcmServer(account);
    ({ agent } = await fake.start());
    relay = await startRelay('auth_push', { FCM_SERVICE_ACCOUNT_JSON: account.json, PUSH_SYNC_WAIT_MS: '1000' });
    // The harness's worker, plus the fake's agent for firebase-admin's connections.
    const config = relay.config;
    const wredis = workerRedis(config.redisUrl);
    const http = createOutboundHttp({ timeoutMs: config.callbackTimeoutMs, allowPrivateNetworks: true });
    const tenants = new TenantStore(wredis, config.secretsMasterKey, config.queuePrefix);
    const deps = {
      config,
      logger: auditLogger('test'),
      redis: wredis,
      tenants,
      http,
      producer: relay.producer,
      fcmHttpAgent: agent,
    };
    fleet = await startWorkers(config, deps.logger, createProcessors(deps));
    closers.push(
      () => fleet.close(),
      () => http.close(),
      () => wredis.quit(),
    );
    receiver = await startReceiver();
    creds = await provision(relay.baseUrl, { rate_limit_per_min: 10_000, callback_url_base: receiver.url });
    receiver.setSecret(creds.secret);
  });
  after(async () => {
    for (const c of closers) await c();
    await receiver?.close();
    await relay?.stop();
    await fake?.stop();
  });
  afterEach(() => assert.deepEqual(fake.unexpected, [], 'firebase-admin called an endpoint the fake does not implement'));

  const pushesFor = (instructionId: string) => fake.received.filter((m) => m.data?.instruction_id === instructionId);

  it('end to end: seed-signed prepare-pairing → reference device registers → challenge pushed to each device token → approve → signed callback → delivery-status', async () => {
    const hash = newUserHash();
    // prepare-pairing signed exactly as the seed's Python snippet does.
    const pair = async (name: string, fcmToken: string) => {
      const raw = JSON.stringify(seedPairingBody(hash));
      const ts = String(Date.now());
      const sig = createHmac('sha256', creds.secret)
        .update(`${ts}.${createHash('sha256').update(raw).digest('hex')}`)
        .digest('hex');
      const prep = await call(relay.baseUrl, 'POST', '/api/v1/relay/prepare-pairing', {
        headers: {
          'X-Bloonio-Tenant-Id': creds.tenantId,
          'X-Bloonio-Timestamp': ts,
          'X-Bloonio-Signature': sig,
          'Content-Type': 'application/json',
        },
        body: raw,
      });
      assert.equal(prep.status, 201, JSON.stringify(prep.body));
      const device = DeviceClient.create(relay.baseUrl);
      const r = await device.pair(prep.body.data.pairing_proof, { deviceName: name, platform: 'android', fcmToken });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return device;
    };
    const phone = await pair('Jane phone', `fcm-phone-${hash}`);
    const tablet = await pair('Jane tablet', `fcm-tablet-${hash}`);

    // The phone was told about the tablet, by push.
    await eventually(async () => fake.received.find((m) => m.token === `fcm-phone-${hash}` && m.data?.kind === 'security-alert'));

    const body = challengeBody(hash);
    const sent = await signed(relay.baseUrl, creds, 'POST', '/relay/send/auth-challenge', body);
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    assert.equal(sent.body.message, 'Challenge pushed to 2 device(s).');
    assert.equal(sent.body.data.delivered_count, 2);
    assert.equal(sent.body.data.failed_count, 0);
    assert.equal(sent.body.data.fcm_message_ids.length, 2);
    for (const id of sent.body.data.fcm_message_ids) assert.match(id, /^projects\/bloonio-push-test\/messages\//);

    const pushes = pushesFor(body.instruction_id);
    assert.deepEqual(pushes.map((m) => m.token).sort(), [`fcm-phone-${hash}`, `fcm-tablet-${hash}`].sort());
    for (const m of pushes) {
      assert.equal(m.servername, 'fcm.googleapis.com', 'TLS to the FCM host name');
      assert.equal(m.project, 'bloonio-push-test');
      assert.deepEqual(
        { ...m.data, expires_at: undefined },
        {
          type: 'bloonio.approval_request',
          kind: 'auth-challenge',
          request_id: sent.body.data.request_id,
          instruction_id: body.instruction_id,
          custom_type: 'localAuth',
          expires_at: undefined,
        },
      );
      assert.deepEqual(m.notification, { title: 'Confirm the transfer', body: 'Confirm the transfer of 120.00 USD to ACME Ltd' });
      assert.equal((m.android as any)?.priority, 'high');
      assert.equal((m.android as any)?.collapse_key, sent.body.data.request_id);
    }
    assert.ok(!pushes.some((m) => JSON.stringify(m.data).includes('120.00')), 'the display fields stay off FCM; the device fetches them');

    // The phone opens the push, fetches the request, approves.
    const open = (await phone.poll()).body.data.requests.find((r: any) => r.request_id === sent.body.data.request_id);
    assert.equal(open.content.display.fields[0].value, '120.00');
    const answered = await phone.answer(open.request_id, 'approve');
    assert.equal(answered.status, 200, JSON.stringify(answered.body));

    const cb = await eventually(async () => receiver.received.find((c) => c.body.data?.instruction_id === body.instruction_id));
    assert.equal(cb.signatureValid, true);
    assert.equal(cb.path, '/relay-callbacks/auth-challenge');
    assert.equal(cb.body.event_type, 'auth_challenge.approved');
    assert.equal(cb.body.data.device_id, phone.state.deviceId);

    const st = await signed(relay.baseUrl, creds, 'GET', `/relay/fetch/delivery-status?instruction_id=${body.instruction_id}`);
    assert.equal(st.body.data.status, 'approved');
    assert.deepEqual(
      st.body.data.deliveries.map((d: any) => d.status),
      ['sent', 'sent'],
    );
    assert.deepEqual(st.body.data.deliveries.map((d: any) => d.fcm_message_id).sort(), [...sent.body.data.fcm_message_ids].sort());
    void tablet;
  });

  it('an unregistered FCM token is pruned after FCM says so; the device then polls', async () => {
    const hash = newUserHash();
    const token = `fcm-gone-${hash}`;
    const device = await pairDevice(relay.baseUrl, creds, hash, { fcmToken: token });
    fake.script(token, [fcmError('UNREGISTERED')]);
    const sent = await signed(relay.baseUrl, creds, 'POST', '/relay/send/auth-challenge', challengeBody(hash));
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    assert.equal(sent.body.data.delivered_count, 0);
    assert.equal(sent.body.data.failed_count, 1);
    assert.deepEqual(sent.body.data.failed_tokens_sample, [{ device_id: device.state.deviceId, error_code: 'UNREGISTERED', pruned: true }]);
    assert.equal(pushesFor(sent.body.data.instruction_id)[0]?.answeredStatus, 404);

    const list = await signed(relay.baseUrl, creds, 'GET', `/relay/fetch/devices?user_socket_hash=${hash}`);
    assert.deepEqual([list.body.data.devices[0].push_enabled, list.body.data.devices[0].fcm_token_pruned_reason], [false, 'UNREGISTERED']);

    const again = await signed(relay.baseUrl, creds, 'POST', '/relay/send/auth-challenge', challengeBody(hash));
    assert.equal(again.body.data.polling_count, 1, 'no push to a pruned token');
    assert.equal(pushesFor(again.body.data.instruction_id).length, 0);
    assert.ok((await device.poll()).body.data.requests.some((r: any) => r.request_id === again.body.data.request_id));

    // A new token reported by the (signed) device turns push back on.
    assert.equal((await device.updatePushToken(`fcm-new-${hash}`)).status, 200);
    const third = await signed(relay.baseUrl, creds, 'POST', '/relay/send/auth-challenge', challengeBody(hash));
    assert.equal(third.body.data.delivered_count, 1);
  });

  it('transient FCM errors are retried with backoff: 202 while in progress, then sent', async () => {
    const hash = newUserHash();
    const token = `fcm-flaky-${hash}`;
    await pairDevice(relay.baseUrl, creds, hash, { fcmToken: token });
    fake.script(token, [fcmError('INTERNAL'), fcmError('INTERNAL')]);
    const sent = await signed(relay.baseUrl, creds, 'POST', '/relay/send/auth-challenge', challengeBody(hash));
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    assert.equal(sent.body.data.pending_count, 1);
    assert.match(sent.body.message, /delivery-status/);
    const st = await eventually(
      async () => {
        const r = await signed(relay.baseUrl, creds, 'GET', `/relay/fetch/delivery-status?instruction_id=${sent.body.data.instruction_id}`);
        return r.body.data.deliveries[0].status === 'sent' ? r : null;
      },
      25_000,
      200,
    );
    assert.equal(st.body.data.deliveries[0].attempts, 3);
    assert.equal(st.body.data.delivered_count, 1);
  });

  it('a permanent FCM error fails the delivery without pruning the token', async () => {
    const hash = newUserHash();
    const token = `fcm-mismatch-${hash}`;
    await pairDevice(relay.baseUrl, creds, hash, { fcmToken: token });
    fake.script(token, [fcmError('SENDER_ID_MISMATCH')]);
    const sent = await signed(relay.baseUrl, creds, 'POST', '/relay/send/auth-challenge', challengeBody(hash));
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    assert.deepEqual(
      sent.body.data.failed_tokens_sample.map((f: any) => [f.error_code, f.pruned]),
      [['SENDER_ID_MISMATCH', false]],
    );
    const list = await signed(relay.baseUrl, creds, 'GET', `/relay/fetch/devices?user_socket_hash=${hash}`);
    assert.equal(list.body.data.devices[0].push_enabled, true);
  });
});
