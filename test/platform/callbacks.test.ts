/**
 * Signed callbacks end to end (docs/contract.md §1.4): API → MongoDB → BullMQ → worker → a real receiver.
 * Retry schedule shortened to 0, 300 ms, 300 ms (three attempts) by the test environment.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { DeliveryModel } from '../../models/platform/delivery.js';
import { TenantModel } from '../../models/platform/tenant.js';
import { TenantStore } from '../../models/platform/tenant-store.js';
import { Receiver } from '../fakes/receiver.js';
import { eventually, sleep, spawnWorker, startRelay, type Relay } from '../support/harness.js';
import { admin, provision, signed, type TenantCreds } from '../support/client.js';

async function sendTest(relay: Relay, creds: TenantCreds, note = 'hello'): Promise<{ event_id: string; delivery_id: string }> {
  const r = await signed(relay.baseUrl, creds, 'POST', '/relay/send/test-callback', { note });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  return r.body.data;
}

const delivery = (id: string) => DeliveryModel.findById(id).lean();

/** Runs the seed's Python verification recipe over received callbacks. */
async function verifyWithSeedRecipe(secret: string, reqs: { headers: Record<string, unknown>; body: string }[]): Promise<string[]> {
  const py = spawn('python3', [new URL('../fakes/verify_callback.py', import.meta.url).pathname], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  py.stdout.on('data', (d: Buffer) => (out += d.toString()));
  for (const r of reqs) {
    py.stdin.write(
      `${JSON.stringify({ secret, timestamp: r.headers['x-bloonio-timestamp'], signature: r.headers['x-bloonio-signature'], body: r.body })}\n`,
    );
  }
  py.stdin.end();
  await new Promise((r) => py.on('close', r));
  return out.trim().split('\n');
}

describe('platform: signed callbacks', () => {
  let relay: Relay;
  let receiver: Receiver;
  let creds: TenantCreds;
  beforeEach(async () => {
    receiver = await new Receiver().start();
    // With private networks off, the API refuses a loopback callback URL (422); the SSRF tests store it below.
    const url = relay.config.callbackAllowPrivateNetworks ? receiver.url : 'https://hooks.example.com';
    creds = await provision(relay.baseUrl, { callback_url_base: url, rate_limit_per_min: 10_000 });
  });
  afterEach(async () => receiver.stop());

  describe('with one in-process worker', () => {
    before(async () => {
      // The dashboard-retry test below needs the dashboard's actions (read-only by default).
      relay = await startRelay('callbacks', { QUEUE_DASHBOARD_ACTIONS: 'true' });
      await relay.startWorker();
    });
    after(async () => relay.stop());

    it('delivers a platform.test event that the seed recipe verifies', async () => {
      const sent = await sendTest(relay, creds, 'check my receiver');
      await eventually(async () => receiver.received.length === 1);
      const [req] = receiver.received;
      assert.ok(req);
      assert.equal(req.path, '/relay-callbacks/test');
      assert.equal(req.headers['x-bloonio-tenant-id'], creds.tenantId);
      assert.equal(req.headers['x-bloonio-event-id'], sent.event_id);
      assert.equal(req.headers['x-bloonio-event-type'], 'platform.test');
      const body = JSON.parse(req.body);
      assert.deepEqual(Object.keys(body).sort(), ['created_at', 'data', 'event_id', 'event_type', 'tenant_id']);
      assert.equal(body.data.note, 'check my receiver');
      assert.deepEqual(await verifyWithSeedRecipe(creds.secret, receiver.received), ['ok']);
      assert.deepEqual(await verifyWithSeedRecipe('sk_someone_else', receiver.received), ['bad'], 'the check can fail');
      const d = await eventually(async () => {
        const x = await delivery(sent.delivery_id);
        return x?.status === 'succeeded' ? x : null;
      });
      assert.equal(d.attempts.length, 1);
      assert.equal(d.attempts[0]?.status_code, 200);
    });

    it('retries a 500, then succeeds; both attempts carry the same event id and are recorded', async () => {
      receiver.answer({ status: 500, body: 'boom' });
      const sent = await sendTest(relay, creds);
      await eventually(async () => receiver.received.length === 2);
      assert.deepEqual(receiver.eventIds(), [sent.event_id, sent.event_id]);
      assert.equal(receiver.received[0]?.body, receiver.received[1]?.body, 'the same bytes are sent again');
      const d = await eventually(async () => {
        const x = await delivery(sent.delivery_id);
        return x?.status === 'succeeded' ? x : null;
      });
      assert.deepEqual(
        d.attempts.map((a) => [a.outcome, a.status_code, a.response_body]),
        [
          ['http_error', 500, 'boom'],
          ['success', 200, '{"received":true}'],
        ],
      );
      const listed = await admin(relay.baseUrl, 'GET', `/fetch/deliveries?tenant_id=${creds.tenantId}&event_id=${sent.event_id}`);
      assert.equal(listed.body.data.deliveries[0].attempt_count, 2);
    });

    it('honours Retry-After on a 429 (waits longer than the schedule says)', async () => {
      receiver.answer({ status: 429, retryAfter: '2' });
      await sendTest(relay, creds);
      await eventually(async () => receiver.received.length === 2, 8000);
      const gap = (receiver.received[1]?.at ?? 0) - (receiver.received[0]?.at ?? 0);
      assert.ok(gap >= 1900, `second attempt after ${gap} ms; Retry-After asked for 2000 (schedule: 300)`);
    });

    it('a dead endpoint ends in the dead-letter store; a replay delivers it with the same event id', async () => {
      receiver.always({ status: 503 });
      const sent = await sendTest(relay, creds);
      const dead = await eventually(async () => {
        const x = await delivery(sent.delivery_id);
        return x?.status === 'dead' ? x : null;
      });
      assert.equal(dead.attempts.length, 3, 'the whole (shortened) schedule was tried');
      assert.match(dead.dead_reason ?? '', /retries exhausted/);
      const listed = await admin(relay.baseUrl, 'GET', `/fetch/dead-letters?tenant_id=${creds.tenantId}`);
      assert.deepEqual(
        listed.body.data.dead_letters.map((d: { delivery_id: string }) => d.delivery_id),
        [sent.delivery_id],
      );

      receiver.always({ status: 200 });
      const replay = await admin(relay.baseUrl, 'POST', `/replay/dead-letters?tenant_id=${creds.tenantId}`, {
        delivery_id: sent.delivery_id,
      });
      assert.equal(replay.status, 200, JSON.stringify(replay.body));
      const done = await eventually(async () => {
        const x = await delivery(sent.delivery_id);
        return x?.status === 'succeeded' ? x : null;
      });
      assert.equal(done.replay_count, 1);
      assert.deepEqual(new Set(receiver.eventIds()), new Set([sent.event_id]));
      const again = await admin(relay.baseUrl, 'POST', `/replay/dead-letters?tenant_id=${creds.tenantId}`, {
        delivery_id: sent.delivery_id,
      });
      assert.equal(again.status, 409, 'a delivered one is no longer a dead letter');
    });

    it('a dead letter retried from the queue dashboard is attempted once more and delivered', async () => {
      receiver.always({ status: 500 });
      const sent = await sendTest(relay, creds);
      await eventually(async () => (await delivery(sent.delivery_id))?.status === 'dead');
      receiver.always({ status: 200 });
      // What the "retry" button of bull-board's failed tab sends:
      const r = await fetch(`${relay.baseUrl}/admin/queues/api/queues/webhook-delivery/${sent.delivery_id}/retry`, {
        method: 'PUT',
        headers: { 'X-Admin-Key': relay.env.ADMIN_API_KEY ?? '' },
      });
      assert.equal(r.status, 204);
      const done = await eventually(async () => {
        const x = await delivery(sent.delivery_id);
        return x?.status === 'succeeded' ? x : null;
      });
      assert.equal(done.attempts.length, 4, 'three scheduled attempts, then the dashboard retry');
      assert.deepEqual(new Set(receiver.eventIds()), new Set([sent.event_id]));
    });

    it('replays every dead letter of a tenant in a time range', async () => {
      receiver.always({ status: 410 }); // 4xx: permanent, dead at the first attempt (410 is recorded, disables nothing)
      const from = new Date().toISOString();
      const a = await sendTest(relay, creds, 'a');
      const b = await sendTest(relay, creds, 'b');
      await eventually(async () => (await DeliveryModel.countDocuments({ tenant_id: creds.tenantId, status: 'dead' })) === 2);
      assert.equal(receiver.received.length, 2, 'not retried');
      receiver.always({ status: 200 });
      const r = await admin(relay.baseUrl, 'POST', `/replay/dead-letters?tenant_id=${creds.tenantId}`, {
        from,
        to: new Date().toISOString(),
      });
      assert.equal(r.body.data.replayed, 2);
      await eventually(async () => (await DeliveryModel.countDocuments({ tenant_id: creds.tenantId, status: 'succeeded' })) === 2);
      assert.deepEqual(new Set(receiver.eventIds()), new Set([a.event_id, b.event_id]));
    });

    it("another tenant's dead letters are out of reach (404)", async () => {
      receiver.always({ status: 400 });
      const sent = await sendTest(relay, creds);
      await eventually(async () => (await delivery(sent.delivery_id))?.status === 'dead');
      const other = await provision(relay.baseUrl);
      const r = await admin(relay.baseUrl, 'POST', `/replay/dead-letters?tenant_id=${other.tenantId}`, { delivery_id: sent.delivery_id });
      assert.equal(r.status, 404);
    });
  });

  describe('fairness: a hanging endpoint of tenant A does not delay tenant B', () => {
    before(async () => {
      // 12 worker slots, at most 4 per tenant: without the per-tenant cap, A's 40 hanging
      // deliveries would take every slot for the whole 5 s timeout.
      relay = await startRelay('fairness', { DELIVERY_CONCURRENCY: '12', DELIVERY_TENANT_CONCURRENCY: '4', CALLBACK_TIMEOUT_MS: '5000' });
      await relay.startWorker();
    });
    after(async () => relay.stop());

    it("delivers all of B's events while A's endpoint hangs", async () => {
      const hangingA = await new Receiver().start();
      hangingA.always({ hang: true });
      try {
        const a = await provision(relay.baseUrl, { callback_url_base: hangingA.url, rate_limit_per_min: 10_000 });
        for (let i = 0; i < 40; i++) await sendTest(relay, a, `a${i}`);
        await eventually(async () => hangingA.received.length >= 4, 30_000); // A now holds its slots, hanging
        const held = Date.now();
        for (let i = 0; i < 20; i++) await sendTest(relay, creds, `b${i}`);
        await eventually(async () => receiver.received.length === 20, 30_000);
        // Queued behind A, B's deliveries would wait for A's requests to time out (5 s after they began).
        const took = Date.now() - held;
        assert.ok(took < 5000, `B's 20 deliveries done ${took} ms after A's requests began hanging: not before their 5000 ms timeout`);
        assert.ok(hangingA.received.length <= 4 + 4, `A never held more than its share: ${hangingA.received.length} requests`);
      } finally {
        await hangingA.stop();
      }
    });
  });

  describe('SSRF guard', () => {
    before(async () => {
      relay = await startRelay('ssrf', { CALLBACK_ALLOW_PRIVATE_NETWORKS: 'false' });
      await relay.startWorker();
    });
    after(async () => relay.stop());
    // A URL saved while private networks were allowed (or a name that resolves privately later) is
    // still refused at delivery: stored directly, as the admin API now refuses it when it is set.
    const storeCallbackUrl = async (url: string) => {
      await TenantModel.updateOne({ _id: creds.tenantId }, { $set: { callback_url_base: url } });
      const redis = new Redis(relay.config.redisUrl);
      await new TenantStore(redis, relay.config.secretsMasterKey, relay.config.queuePrefix).bump(creds.tenantId);
      await redis.quit();
    };
    beforeEach(async () => storeCallbackUrl(receiver.url));

    it('refuses a callback to 127.0.0.1 when private networks are not allowed', async () => {
      const sent = await sendTest(relay, creds);
      const d = await eventually(async () => {
        const x = await delivery(sent.delivery_id);
        return x?.status === 'dead' ? x : null;
      });
      assert.equal(d.attempts[0]?.outcome, 'refused');
      assert.match(d.attempts[0]?.error ?? '', /non-public address/);
      await sleep(200);
      assert.equal(receiver.received.length, 0, 'no connection was made');
    });

    it('refuses a host name that resolves to loopback (localhost)', async () => {
      await storeCallbackUrl(receiver.url.replace('127.0.0.1', 'localhost'));
      const sent = await sendTest(relay, creds);
      const d = await eventually(async () => {
        const x = await delivery(sent.delivery_id);
        return x?.status === 'dead' ? x : null;
      });
      assert.equal(d.attempts[0]?.outcome, 'refused');
      assert.equal(receiver.received.length, 0);
    });
  });

  describe('crash safety: a worker killed with SIGKILL mid-batch', function () {
    // Each case starts worker processes (up to 60 s each on a loaded machine) and then waits for its
    // deliveries with deadlines of its own: mocha's 30 s default would cut those waits short.
    this.timeout(180_000);
    before(async () => {
      relay = await startRelay('sigkill');
    });
    after(async () => relay.stop());

    it('a delivery waiting for its first attempt reads as pending (from its job), then as recorded', async () => {
      const sent = await sendTest(relay, creds, 'queued');
      const byId = () => admin(relay.baseUrl, 'GET', `/fetch/deliveries?tenant_id=${creds.tenantId}&delivery_id=${sent.delivery_id}`);
      const queued = await byId();
      assert.equal(queued.status, 200, JSON.stringify(queued.body));
      assert.equal(queued.body.data.deliveries[0]?.status, 'pending');
      assert.equal(queued.body.data.deliveries[0]?.attempt_count, 0);
      assert.equal(queued.body.data.deliveries[0]?.event_id, sent.event_id);
      const other = await provision(relay.baseUrl);
      const foreign = await admin(relay.baseUrl, 'GET', `/fetch/deliveries?tenant_id=${other.tenantId}&delivery_id=${sent.delivery_id}`);
      assert.deepEqual(foreign.body.data.deliveries, [], "another tenant's queued delivery is not shown");
      const worker = await spawnWorker(relay.env);
      try {
        const done = await eventually(async () => {
          const r = await byId();
          return r.body.data.deliveries[0]?.status === 'succeeded' ? r.body.data.deliveries[0] : null;
        });
        assert.equal(done.attempt_count, 1);
      } finally {
        await worker.kill();
      }
    });

    it('SIGTERM lets the running deliveries finish, then exits 0 within the shutdown deadline', async () => {
      receiver.always({ status: 200, delayMs: 800 });
      const worker = await spawnWorker({ ...relay.env, DELIVERY_CONCURRENCY: '2' });
      const sent = [await sendTest(relay, creds, 'x'), await sendTest(relay, creds, 'y')];
      await eventually(async () => receiver.received.length === 2, 5000); // both in flight now
      const started = Date.now();
      const exited = new Promise<number | null>((r) => worker.proc.once('exit', (code) => r(code)));
      worker.proc.kill('SIGTERM');
      assert.equal(await exited, 0);
      assert.ok(Date.now() - started < 3000 + 1500, 'within WORKER_SHUTDOWN_TIMEOUT_MS');
      for (const s of sent) assert.equal((await delivery(s.delivery_id))?.status, 'succeeded', 'finished, not abandoned');
      assert.match(worker.output(), /worker stopped/);
    });

    it('still delivers every event after a restart; duplicates carry the same event id', async () => {
      receiver.always({ status: 200, delayMs: 40 }); // slow enough that the kill lands mid-batch
      const sent = new Set<string>();
      for (let i = 0; i < 150; i++) sent.add((await sendTest(relay, creds, `batch ${i}`)).event_id);
      const env = { ...relay.env, DELIVERY_CONCURRENCY: '5' };
      const first = await spawnWorker(env);
      await eventually(async () => receiver.received.length >= 30, 15_000);
      await first.kill('SIGKILL');
      const deliveredBeforeKill = new Set(receiver.eventIds()).size;
      assert.ok(deliveredBeforeKill < sent.size, 'the kill landed mid-batch');

      const second = await spawnWorker(env);
      try {
        // Every event reaches the receiver, and every delivery is recorded as delivered: the ones the
        // killed worker had sent but not recorded are sent again once their lock expires (stalled).
        await eventually(
          async () =>
            [...sent].every((id) => receiver.eventIds().includes(id)) &&
            (await DeliveryModel.countDocuments({ tenant_id: creds.tenantId, status: 'succeeded' })) === sent.size,
          40_000,
          200,
        );
      } finally {
        await second.kill();
      }
      const ids = receiver.eventIds();
      assert.ok(
        ids.every((id) => sent.has(id)),
        'only our events, each with its own id',
      );
      assert.equal(new Set(ids).size, sent.size, 'every event delivered at least once');
      const states = await DeliveryModel.countDocuments({ tenant_id: creds.tenantId, status: 'succeeded' });
      assert.equal(states, sent.size);
    });
  });
});
