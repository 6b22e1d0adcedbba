/** The ops surface (health, readiness, metrics, OpenAPI) and what callers see when a store is down. */
import assert from 'node:assert/strict';
import { CALLBACK_EVENTS } from '../../models/platform/callback-catalogue.js';
import { ROUTES } from '../../api/routes.js';
import { Receiver } from '../fakes/receiver.js';
import { eventually, spawnApi, startRelay, type Relay } from '../support/harness.js';
import { call, provision, signed } from '../support/client.js';

describe('platform: ops surface', () => {
  let relay: Relay;
  before(async () => {
    relay = await startRelay('ops');
    await relay.startWorker();
  });
  after(async () => relay.stop());

  it('/healthz answers alive and /readyz checks Redis and MongoDB', async () => {
    assert.deepEqual((await call(relay.baseUrl, 'GET', '/healthz')).body, { status: 'ok' });
    const ready = await call(relay.baseUrl, 'GET', '/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { status: 'ready', redis: 'ok', mongodb: 'ok' });
  });

  it('/metrics exposes HTTP, queue and delivery metrics in Prometheus format', async () => {
    const receiver = await new Receiver().start();
    try {
      const creds = await provision(relay.baseUrl, { callback_url_base: receiver.url });
      assert.equal((await signed(relay.baseUrl, creds, 'POST', '/relay/send/test-callback', {})).status, 202);
      await eventually(async () => receiver.received.length === 1);
      const r = await fetch(`${relay.baseUrl}/metrics`, { headers: { 'X-Admin-Key': relay.env.ADMIN_API_KEY ?? '' } });
      assert.match(r.headers.get('content-type') ?? '', /text\/plain/);
      const text = await r.text();
      assert.match(text, /relay_http_requests_total\{method="POST",route="\/api\/v1\/relay\/send\/test-callback",status="202"\} 1/);
      assert.match(text, /relay_http_request_duration_seconds_bucket/);
      assert.match(text, /relay_queue_jobs\{queue="webhook-delivery",state="waiting"\} \d+/);
      assert.match(text, /relay_callback_deliveries_total\{outcome="success"\} [1-9]/);
      assert.ok(!text.includes(creds.tenantId), 'no tenant ids in metric labels');
    } finally {
      await receiver.stop();
    }
  });

  it('serves an OpenAPI 3.1 document covering every route, generated from the zod schemas', async () => {
    const doc = (await call(relay.baseUrl, 'GET', '/api/v1/openapi.json')).body as any;
    assert.equal(doc.openapi, '3.1.0');
    for (const r of ROUTES) assert.ok(doc.paths[`/api/v1${r.path}`]?.[r.method], `${r.method} ${r.path} documented`);
    const provisionOp = doc.paths['/api/v1/provision/tenant'].post;
    assert.deepEqual(provisionOp.requestBody.content['application/json'].schema.required, ['tenant_name']);
    assert.deepEqual(provisionOp.security, [{ AdminKey: [] }]);
    const signedOp = doc.paths['/api/v1/relay/send/test-callback'].post;
    assert.deepEqual(signedOp.security, [{ TenantId: [], Timestamp: [], Signature: [] }]);
    assert.ok(signedOp.responses['429'], 'rate limit documented');
    assert.ok(doc.components.schemas.ErrorEnvelope.properties.error.properties.code.enum.includes('REPLAY_DETECTED'));
    // Every callback of the catalogue is documented as an OpenAPI webhook with its data schema.
    for (const name of Object.keys(CALLBACK_EVENTS)) {
      const hook = doc.webhooks[name]?.post;
      assert.ok(hook, `webhook ${name} documented`);
      assert.equal(hook.requestBody.content['application/json'].schema.properties.event_type.const, name);
    }
    assert.ok(doc.webhooks['chat.message-received'].post.requestBody.content['application/json'].schema.properties.data.properties.message);
  });

  it('serves the reference page at /docs', async () => {
    const r = await fetch(`${relay.baseUrl}/docs`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await r.text(), /openapi\.json/);
  });

  it('keeps the queue dashboard behind the admin key (Basic auth prompt for browsers)', async () => {
    const anon = await fetch(`${relay.baseUrl}/admin/queues`);
    assert.equal(anon.status, 401);
    assert.match(anon.headers.get('www-authenticate') ?? '', /^Basic/);
    const wrong = await fetch(`${relay.baseUrl}/admin/queues`, {
      headers: { Authorization: `Basic ${Buffer.from('ops:nope').toString('base64')}` },
    });
    assert.equal(wrong.status, 401);
    const ok = await fetch(`${relay.baseUrl}/admin/queues`, {
      headers: { Authorization: `Basic ${Buffer.from(`ops:${relay.env.ADMIN_API_KEY}`).toString('base64')}` },
    });
    assert.equal(ok.status, 200);
    const api = await fetch(`${relay.baseUrl}/admin/queues/api/queues`, { headers: { 'X-Admin-Key': relay.env.ADMIN_API_KEY ?? '' } });
    assert.equal(api.status, 200);
    const queues = ((await api.json()) as { queues: { name: string }[] }).queues.map((q) => q.name);
    assert.ok(queues.includes('webhook-delivery'), queues.join(','));
  });
});

describe('platform: store outages answer 503 quickly, never hang', () => {
  let relay: Relay;
  before(async () => {
    relay = await startRelay('outage');
  });
  after(async () => relay.stop());

  it('Redis unreachable: a signed call gets 503 STORE_UNAVAILABLE and /readyz says not ready', async () => {
    const creds = await provision(relay.baseUrl);
    const api = await spawnApi({ ...relay.env, REDIS_URL: 'redis://127.0.0.1:1' }, { waitFor: '/healthz' });
    try {
      const started = Date.now();
      const r = await signed(api.url, creds, 'POST', '/relay/send/test-callback', {});
      assert.equal(r.status, 503, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'STORE_UNAVAILABLE');
      assert.ok(r.headers.get('retry-after'));
      assert.ok(Date.now() - started < 3000, 'answered quickly');
      const ready = await call(api.url, 'GET', '/readyz');
      assert.equal(ready.status, 503);
      assert.equal(ready.body.redis, 'unavailable');
    } finally {
      await api.kill();
    }
  });

  it('MongoDB unreachable: the API still starts, answers 503, and /readyz says not ready', async () => {
    const api = await spawnApi({ ...relay.env, MONGODB_URI: 'mongodb://127.0.0.1:1/none' }, { waitFor: '/healthz' });
    try {
      const r = await call(api.url, 'GET', '/api/v1/fetch/tenants', { headers: { 'X-Admin-Key': relay.env.ADMIN_API_KEY ?? '' } });
      assert.equal(r.status, 503, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'STORE_UNAVAILABLE');
      const ready = await call(api.url, 'GET', '/readyz');
      assert.equal(ready.status, 503);
      assert.equal(ready.body.mongodb, 'unavailable');
    } finally {
      await api.kill();
    }
  });
});
