/**
 * The relay on Redis Cluster, unchanged (issue 10 item 4): a local 3-node cluster
 * (`redis-server --cluster-enabled yes`, joined by `redis-cli --cluster create`), REDIS_URL
 * redis+cluster://…, two spawned API processes and a spawned worker. One slice of each part runs on
 * it end to end: a tenant is provisioned, a signed callback reaches its receiver, a device pairs and
 * approves a push challenge (the reference device), and a visitor's message reaches an operator on
 * the other API process (pub/sub across the cluster). Any multi-key script, MULTI or pipeline that
 * crossed hash slots would fail here with CROSSSLOT (or ioredis's "same slot" refusal). Afterwards
 * the keys are spread over the nodes: tenant keys by their `{tnt_…}` tag, BullMQ's by one tag per
 * queue (`{<QUEUE_PREFIX>:<queue>}`).
 */
import assert from 'node:assert/strict';
import { admin, provision, signed, type TenantCreds } from '../support/client.js';
import { assignedConversation, socketPool, type Frame } from '../support/chat-client.js';
import { eventually, spawnApi, spawnWorker, startRelay, type Child, type Relay } from '../support/harness.js';
import { redisCli, redisServerAvailable, startPrivateCluster, type PrivateCluster } from '../support/private-redis.js';
import { challengeBody, newUserHash, pairDevice, startReceiver } from '../auth/support.js';
import type { OpenRequest } from '../../scripts/device.js';
import { redisKey } from '../../platform/keys.js';

const ORIGIN = 'https://shop.example.com';

describe('Redis Cluster: the relay runs on a 3-node cluster unchanged', function () {
  this.timeout(90_000);
  let cluster: PrivateCluster;
  let relay: Relay;
  let api1: Child;
  let api2: Child;
  let worker: Child;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let creds: TenantCreds;
  const { visitorWs, operatorWs, closeAll } = socketPool(ORIGIN);

  before(async function () {
    if (!redisServerAvailable()) {
      console.log('      (skipped: redis-server is not installed; scripts/with-services.sh installs it when it starts Redis)');
      this.skip();
    }
    cluster = await startPrivateCluster('cluster');
    relay = await startRelay('cluster', { REDIS_URL: cluster.url, PUSH_SYNC_WAIT_MS: '200', LOG_LEVEL: 'warn' });
    receiver = await startReceiver();
    [api1, api2, worker] = await Promise.all([spawnApi(relay.env), spawnApi(relay.env), spawnWorker(relay.env)]);
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed')
      console.log(`API output:\n${api1?.output().slice(-4000)}\nworker output:\n${worker?.output().slice(-4000)}`);
  });
  after(async () => {
    await closeAll();
    await Promise.all([api1?.kill(), api2?.kill(), worker?.kill()].map((p) => p?.catch(() => undefined)));
    await receiver?.close();
    await relay?.stop().catch(() => undefined);
    await cluster?.destroy();
  });

  it('provisions a tenant and delivers a signed callback to its receiver', async () => {
    creds = await provision(api1.url, { callback_url_base: receiver.url, allowed_origins: [ORIGIN], rate_limit_per_min: 10_000 });
    receiver.setSecret(creds.secret);
    const r = await signed(api1.url, creds, 'POST', '/relay/send/test-callback', { note: 'over the cluster' });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const got = await eventually(async () => receiver.received.find((c) => c.body.event_id === r.body.data.event_id), 20_000);
    assert.equal(got.signatureValid, true);
    assert.equal(got.body.data.note, 'over the cluster');
    const recorded = await eventually(async () => {
      const d = await admin(api2.url, 'GET', `/fetch/deliveries?tenant_id=${creds.tenantId}&delivery_id=${r.body.data.delivery_id}`);
      return d.body.data?.deliveries?.[0]?.status === 'succeeded' && d.body.data.deliveries[0];
    }, 20_000);
    assert.equal(recorded.event_id, r.body.data.event_id);
  });

  it('pairs the reference device and has it approve a push challenge; the tenant gets the signed result', async () => {
    const userHash = newUserHash();
    const device = await pairDevice(api1.url, creds, userHash, { deviceName: 'cluster device' });
    const body = challengeBody(userHash);
    const sent = await signed(api2.url, creds, 'POST', '/relay/send/auth-challenge', body);
    assert.ok([200, 202].includes(sent.status), JSON.stringify(sent.body));
    const requestId = sent.body.data.request_id as string;
    const poll = await device.poll();
    assert.equal(poll.status, 200, JSON.stringify(poll.body));
    assert.ok(
      (poll.body.data.requests as { request_id: string }[]).some((q) => q.request_id === requestId),
      'the device sees the challenge',
    );
    const answer = await device.answer(requestId, 'approve');
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const status = await signed(api1.url, creds, 'GET', `/relay/fetch/delivery-status?instruction_id=${body.instruction_id}`);
    assert.equal(status.body.data.status, 'approved', JSON.stringify(status.body));
    const cb = await eventually(
      async () => receiver.received.find((c) => c.body.event_type === 'auth_challenge.approved' && c.body.data.request_id === requestId),
      20_000,
    );
    assert.equal(cb.signatureValid, true);
  });

  it("a cross-organisation sudo request (two tenants, two hash slots): the grantor's device sees it, approves it, and it leaves its poll", async () => {
    const b = await provision(api1.url, { rate_limit_per_min: 10_000, branding_display_name: 'Partner Co' });
    const bDevice = await pairDevice(api1.url, b, newUserHash(), { backendUserId: 'partner-user', deviceName: 'partner phone' });
    const bLink = String(bDevice.state.pairing?.relay_user_linked_id);
    const grant = await signed(api1.url, b, 'POST', '/relay/sudo/create/delegation-grant', {
      grantee_tenant_id: creds.tenantId,
      relay_user_linked_id_list: [bLink],
    });
    assert.equal(grant.status, 201, JSON.stringify(grant.body));
    const d = await signed(api2.url, creds, 'POST', '/relay/sudo/dispatch', {
      event_type: 'sudo_delegated_action',
      grantor_tenant_id: b.tenantId,
      relay_user_linked_id_list: [bLink],
      action_type: 'update',
      instruction_id: `ins-cluster-${Date.now()}`,
      expected_action: 'transfer_funds',
      title: 'Confirm the transfer',
      data_access_type: 'static',
      data_items: [{ key: 'amount', title: 'Amount', value: '120.00', data_type: 'CURRENCY_EUR' }],
      ttl_seconds: 120,
    });
    assert.equal(d.status, 201, JSON.stringify(d.body));
    const eventId = d.body.data.event_id as string;
    const open = async () => ((await bDevice.poll()).body.data.requests as OpenRequest[]).find((q) => q.request_id === eventId);
    const shown = await eventually(open);
    assert.equal(shown.tenant_id, creds.tenantId);
    const r = await bDevice.answerOpen(shown, 'approve');
    assert.equal(r.body.data.status, 'approved', JSON.stringify(r.body));
    const ev = await eventually(
      async () => receiver.received.find((c) => c.body.event_type === 'sudo.approval_event' && c.body.data.event_id === eventId),
      20_000,
    );
    assert.equal(ev.signatureValid, true);
    assert.equal(ev.body.data.status, 'approved');
    await eventually(async () => !(await open()), 20_000);
    // Finalized: gone from the device's open set too, which lives under the grantor's tag while the
    // request's state lives under the requester's (two slots, so two MULTIs).
    const openSet = redisKey.deviceOpenRequests(relay.config.queuePrefix, b.tenantId, String(bDevice.state.deviceId));
    await eventually(async () => redisCli(cluster.nodes[0]!.port, '-c', 'zcard', openSet) === '0', 20_000, 100);
  });

  it('carries a visitor message to an operator on the other API process, and the reply back', async () => {
    const { visitor, operator, cid } = await assignedConversation({
      relayUrl: api1.url,
      visitorApi: api1.url,
      operatorApi: api2.url,
      creds,
      origin: ORIGIN,
      routingKey: 'sales',
      email: 'ops@example.com',
      visitorWs,
      operatorWs,
    });
    const isText = (text: string) => (f: Frame) => f.type === 'message' && f.message?.text === text;
    visitor.send({ type: 'message', text: 'is it in stock?', client_id: 'q1' });
    const seen = await operator.next(isText('is it in stock?'));
    assert.equal(seen.message.conversation_id, cid);
    operator.send({ type: 'message', conversation_id: cid, text: 'yes, two left', client_id: 'r1' });
    const reply = await visitor.next(isText('yes, two left'));
    assert.equal(reply.message.sender_type, 'operator');
    assert.ok(reply.message.seq > seen.message.seq);
  });

  it('spreads the keys over the nodes: tenants by their tag, BullMQ by one tag per queue', () => {
    const perNode = cluster.nodes.map((n) => redisCli(n.port, '--scan').split('\n').filter(Boolean));
    const all = perNode.flat();
    const prefix = relay.config.queuePrefix;
    assert.ok(
      perNode.filter((keys) => keys.length > 0).length >= 2,
      `keys on more than one node: ${perNode.map((k) => k.length).join('/')}`,
    );
    for (const queue of ['webhook-delivery', 'push'])
      assert.ok(
        all.some((k) => k.startsWith(`{${prefix}:${queue}}:${queue}:`)),
        `BullMQ keys of ${queue} carry their tag`,
      );
    assert.ok(all.some((k) => k.startsWith(`${prefix}:{${creds.tenantId}}:`)));
    console.log(`      keys per node: ${perNode.map((k) => k.length).join(' / ')} (${all.length} in all)`);
  });
});
