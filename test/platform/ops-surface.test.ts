/**
 * The ops surface as an attack surface (issue 20, "Ops dashboard" and "/metrics"): the queue
 * dashboard only shows jobs unless QUEUE_DASHBOARD_ACTIONS, the delivery worker signs a job only for
 * the URL the catalogue gives the tenant's current callback base, and /metrics needs a token.
 */
import assert from 'node:assert/strict';
import { newId } from '../../platform/ids.js';
import { DeliveryModel } from '../../models/platform/delivery.js';
import { QUEUE } from '../../queues/names.js';
import { Receiver } from '../fakes/receiver.js';
import { eventually, startRelay, type Relay } from '../support/harness.js';
import { provision, signed, type TenantCreds } from '../support/client.js';

const METRICS_TOKEN = 'metrics-scrape-token-0123456789';

describe('platform: the ops surface', function () {
  this.timeout(60_000);
  let relay: Relay;
  let receiver: Receiver;
  let foreign: Receiver;
  let creds: TenantCreds;
  before(async () => {
    relay = await startRelay('ops_surface', { METRICS_TOKEN });
    await relay.startWorker();
    [receiver, foreign] = await Promise.all([new Receiver().start(), new Receiver().start()]);
    creds = await provision(relay.baseUrl, { callback_url_base: `${receiver.url}/hooks`, rate_limit_per_min: 10_000 });
  });
  after(async () => {
    await Promise.all([receiver?.stop(), foreign?.stop()]);
    await relay?.stop();
  });
  const adminHeaders = () => ({ 'X-Admin-Key': relay.env.ADMIN_API_KEY ?? '', 'Content-Type': 'application/json' });

  describe('the delivery worker signs only for the tenant’s own receiver', () => {
    /** A webhook.deliver job put straight on the queue, as the dashboard's "add job" or a hand in Redis would. */
    async function smuggle(url: string): Promise<string> {
      const deliveryId = newId('dlv');
      const eventId = newId('evt');
      const body = JSON.stringify({
        event_id: eventId,
        event_type: 'platform.test',
        tenant_id: creds.tenantId,
        created_at: new Date().toISOString(),
        data: { note: 'x' },
      });
      const payload = {
        deliveryId,
        tenantId: creds.tenantId,
        replay: 0,
        eventId,
        eventType: 'platform.test',
        url,
        body,
        createdAt: Date.now(),
        priorAttempts: 0,
      };
      await relay.producer.queue(QUEUE.webhookDelivery).add('webhook.deliver', payload, { jobId: deliveryId, attempts: 3 });
      return deliveryId;
    }

    it('a job added straight to the queue with a foreign URL is dead-lettered and never POSTed to', async () => {
      const ids = await Promise.all([
        smuggle(`${foreign.url}/relay-callbacks/test`), // another host
        smuggle(`${receiver.url}/elsewhere/relay-callbacks/test`), // the tenant's host, outside its base path
        smuggle(`${receiver.url}/hooks/relay-callbacks/pairing`), // under the base, not this event's path
      ]);
      for (const id of ids) {
        const dead = await eventually(async () => {
          const d = await DeliveryModel.findById(id).lean();
          return d?.status === 'dead' ? d : null;
        });
        assert.equal(dead.attempts.length, 1, 'dead at once: a wrong URL is not retried');
        assert.equal(dead.attempts[0]?.outcome, 'refused');
        assert.equal(dead.attempts[0]?.status_code, null, 'no request was made');
      }
      assert.equal(foreign.received.length, 0, 'the foreign host was never called');
      assert.deepEqual(
        receiver.received.map((r) => r.path),
        [],
        'nor a path of the tenant’s host the catalogue does not give',
      );
      // The worker still delivers what the API enqueued, to the catalogue's URL.
      const sent = await signed(relay.baseUrl, creds, 'POST', '/relay/send/test-callback', { note: 'genuine' });
      assert.equal(sent.status, 202);
      await eventually(async () => receiver.received.length === 1);
      assert.equal(receiver.received[0]?.path, '/hooks/relay-callbacks/test');
    });
  });

  describe('the queue dashboard is read-only by default', () => {
    const board = (method: string, path: string, body?: unknown) =>
      fetch(`${relay.baseUrl}/admin/queues/api/queues${path}`, {
        method,
        headers: adminHeaders(),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });

    it('refuses every job-changing route (405) and changes nothing; reading still works', async () => {
      const queue = relay.producer.queue(QUEUE.webhookDelivery);
      const before = await queue.getJobCountByTypes('waiting', 'delayed', 'failed', 'completed', 'active');
      const job = await queue.add('webhook.deliver', { placeholder: true }, { delay: 3_600_000 });
      const data = { deliveryId: newId('dlv'), tenantId: creds.tenantId, url: `${foreign.url}/x` };
      const attempts = [
        await board('POST', '/webhook-delivery/add', { name: 'webhook.deliver', data }),
        await board('PATCH', `/webhook-delivery/${job.id}/update-data`, { data }),
        await board('PUT', `/webhook-delivery/${job.id}/promote`),
        await board('PUT', `/webhook-delivery/${job.id}/retry`),
        await board('PUT', `/webhook-delivery/${job.id}/clean`),
        await board('PUT', '/webhook-delivery/retry/failed'),
        await board('PUT', '/webhook-delivery/empty'),
        await board('PUT', '/pause'),
      ];
      assert.deepEqual(
        attempts.map((r) => r.status),
        attempts.map(() => 405),
      );
      const reloaded = await queue.getJob(job.id ?? '');
      assert.deepEqual(reloaded?.data, { placeholder: true }, 'the job data was not replaced');
      assert.equal(await reloaded?.getState(), 'delayed', 'nor promoted or removed');
      assert.equal(await queue.isPaused(), false);
      await reloaded?.remove();
      assert.deepEqual(await queue.getJobCountByTypes('waiting', 'delayed', 'failed', 'completed', 'active'), before, 'no job was added');

      const list = await board('GET', '');
      assert.equal(list.status, 200);
      const queues = ((await list.json()) as { queues: { name: string; readOnlyMode: boolean }[] }).queues;
      assert.ok(queues.length > 0 && queues.every((q) => q.readOnlyMode), 'every queue shows as read-only (no buttons)');
    });
  });

  describe('/metrics', () => {
    const scrape = (headers: Record<string, string> = {}) => fetch(`${relay.baseUrl}/metrics`, { headers });

    it('needs METRICS_TOKEN or the admin key as a bearer token', async () => {
      const anon = await scrape();
      assert.equal(anon.status, 401);
      assert.match(anon.headers.get('www-authenticate') ?? '', /^Bearer/);
      assert.doesNotMatch(await anon.text(), /relay_http_requests_total/);
      assert.equal((await scrape({ Authorization: 'Bearer not-the-metrics-token-000000' })).status, 401);
      const byToken = await scrape({ Authorization: `Bearer ${METRICS_TOKEN}` });
      assert.equal(byToken.status, 200);
      assert.match(await byToken.text(), /relay_http_requests_total/);
      assert.equal((await scrape({ Authorization: `Bearer ${relay.env.ADMIN_API_KEY}` })).status, 200);
    });
  });
});

describe('platform: /metrics opened on purpose', () => {
  let relay: Relay;
  before(async () => {
    relay = await startRelay('metrics_open', { METRICS_TOKEN: 'open' });
  });
  after(async () => relay?.stop());

  it('METRICS_TOKEN=open serves anyone (a scraper on a private network)', async () => {
    const r = await fetch(`${relay.baseUrl}/metrics`);
    assert.equal(r.status, 200);
    assert.match(await r.text(), /relay_http_requests_total|process_cpu/);
  });
});
