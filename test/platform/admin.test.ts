/** The tenant lifecycle end to end through the admin API (docs/contract.md §1.1), as an operator would drive it. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import http from 'node:http';
import { buildApp } from '../../api/app.js';
import { TenantModel } from '../../models/platform/tenant.js';
import { TenantStore } from '../../models/platform/tenant-store.js';
import { createLogger } from '../../platform/logger.js';
import { apiRedis } from '../../platform/redis.js';
import { startRelay, type Relay } from '../support/harness.js';
import { admin, call, provision, signed } from '../support/client.js';

describe('admin API: tenant lifecycle', () => {
  let relay: Relay;
  before(async () => {
    relay = await startRelay('admin');
  });
  after(async () => relay.stop());

  it('provisions with only tenant_name, shows the secret once, never again', async () => {
    const r = await admin(relay.baseUrl, 'POST', '/provision/tenant', { tenant_name: 'example_backend', rate_limit_per_min: 120 });
    assert.equal(r.status, 201);
    assert.equal(r.body.message, 'Tenant provisioned. Save tenant_secret now — it will not be shown again.');
    const d = r.body.data;
    assert.match(d.tenant_id, /^tnt_[0-9a-f]{24}$/);
    assert.match(d.tenant_secret, /^sk_[A-Za-z0-9_-]{43}$/); // 256 bits
    assert.match(d.widget_public_key, /^pk_/);
    assert.equal(d.rate_limit_per_min, 120);
    assert.equal(d.branding_display_name, 'example_backend', 'falls back to tenant_name');

    const fetched = await admin(relay.baseUrl, 'GET', `/fetch/tenant?tenant_id=${d.tenant_id}`);
    assert.equal(fetched.status, 200);
    assert.equal(fetched.body.data.tenant_name, 'example_backend');
    const list = await admin(relay.baseUrl, 'GET', '/fetch/tenants?limit=100');
    assert.equal(list.status, 200);
    assert.ok(list.body.data.tenants.some((t: { tenant_id: string }) => t.tenant_id === d.tenant_id));
    for (const text of [JSON.stringify(fetched.body), JSON.stringify(list.body)]) {
      assert.ok(!text.includes(d.tenant_secret), 'no secret in fetch or list');
      assert.ok(!/tenant_secret|"secret"|"ct"|"iv"/.test(text), 'no secret field, sealed or not');
    }
  });

  it('stores the secret encrypted at rest, with its key id', async () => {
    const creds = await provision(relay.baseUrl);
    const raw = await TenantModel.findById(creds.tenantId).lean();
    assert.ok(raw);
    assert.equal(raw.secret.kid, 'test');
    assert.ok(!JSON.stringify(raw).includes(creds.secret));
  });

  it('updates only the fields present', async () => {
    const creds = await provision(relay.baseUrl, { callback_url_base: 'https://api.example.com', rate_limit_per_min: 90 });
    const r = await admin(relay.baseUrl, 'POST', `/update/tenant?tenant_id=${creds.tenantId}`, { branding_primary_color: '#112233' });
    assert.equal(r.status, 200);
    assert.equal(r.body.data.branding_primary_color, '#112233');
    assert.equal(r.body.data.rate_limit_per_min, 90);
    assert.equal(r.body.data.callback_url_base, 'https://api.example.com');
  });

  it('rotating the secret stops the old one at once; the new one works', async () => {
    const creds = await provision(relay.baseUrl);
    assert.equal((await signed(relay.baseUrl, creds, 'POST', '/relay/send/test-callback', {})).status, 409); // signed OK, no callback URL
    const rot = await admin(relay.baseUrl, 'POST', `/rotate/tenant-secret?tenant_id=${creds.tenantId}`, {});
    assert.equal(rot.status, 200);
    const fresh = { ...creds, secret: rot.body.data.tenant_secret };
    assert.notEqual(fresh.secret, creds.secret);
    const old = await signed(relay.baseUrl, creds, 'POST', '/relay/send/test-callback', {});
    assert.equal(old.status, 401);
    assert.equal(old.body.error.code, 'INVALID_SIGNATURE');
    assert.equal((await signed(relay.baseUrl, fresh, 'POST', '/relay/send/test-callback', {})).status, 409);
  });

  it('rotation with grace_seconds keeps the old secret valid for the overlap only', async () => {
    const creds = await provision(relay.baseUrl);
    const rot = await admin(relay.baseUrl, 'POST', `/rotate/tenant-secret?tenant_id=${creds.tenantId}`, { grace_seconds: 2 });
    assert.equal(rot.status, 200);
    assert.ok(rot.body.data.previous_secret_valid_until);
    assert.equal((await signed(relay.baseUrl, creds, 'POST', '/relay/send/test-callback', {})).status, 409, 'old secret inside grace');
    await new Promise((r) => setTimeout(r, 2200));
    assert.equal((await signed(relay.baseUrl, creds, 'POST', '/relay/send/test-callback', {})).status, 401, 'old secret after grace');
  });

  it('suspend answers 403 to signed calls; reactivate lets them in again', async () => {
    const creds = await provision(relay.baseUrl);
    const s = await admin(relay.baseUrl, 'POST', `/suspend/tenant?tenant_id=${creds.tenantId}`);
    assert.equal(s.status, 200);
    assert.equal(s.body.data.status, 'suspended');
    const denied = await signed(relay.baseUrl, creds, 'POST', '/relay/send/test-callback', {});
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error.code, 'TENANT_SUSPENDED');
    assert.equal((await admin(relay.baseUrl, 'POST', `/reactivate/tenant?tenant_id=${creds.tenantId}`)).status, 200);
    assert.equal((await signed(relay.baseUrl, creds, 'POST', '/relay/send/test-callback', {})).status, 409);
  });

  it('rotates the widget key', async () => {
    const creds = await provision(relay.baseUrl);
    const r = await admin(relay.baseUrl, 'POST', `/rotate/widget-key?tenant_id=${creds.tenantId}`);
    assert.equal(r.status, 200);
    assert.notEqual(r.body.data.widget_public_key, creds.widgetKey);
  });

  it('paginates the tenant list', async () => {
    for (let i = 0; i < 3; i++) await provision(relay.baseUrl);
    const page1 = await admin(relay.baseUrl, 'GET', '/fetch/tenants?limit=2&offset=0');
    const page2 = await admin(relay.baseUrl, 'GET', '/fetch/tenants?limit=2&offset=2');
    assert.equal(page1.body.data.tenants.length, 2);
    assert.ok(page1.body.data.total >= 3);
    const ids = new Set([...page1.body.data.tenants, ...page2.body.data.tenants].map((t: { tenant_id: string }) => t.tenant_id));
    assert.equal(ids.size, page1.body.data.tenants.length + page2.body.data.tenants.length, 'pages do not overlap');
  });

  it('refuses a missing or wrong admin key (401), and accepts any configured key', async () => {
    const none = await call(relay.baseUrl, 'GET', '/api/v1/fetch/tenants');
    assert.equal(none.status, 401);
    assert.equal(none.body.error.code, 'INVALID_ADMIN_KEY');
    const wrong = await admin(relay.baseUrl, 'GET', '/fetch/tenants', undefined, 'not-the-key-not-the-key-not-the-key');
    assert.equal(wrong.status, 401);
  });

  it('answers 404 for an unknown tenant and 422 for a malformed tenant id', async () => {
    const r = await admin(relay.baseUrl, 'GET', '/fetch/tenant?tenant_id=tnt_000000000000000000000000');
    assert.equal(r.status, 404);
    assert.equal(r.body.error.code, 'NOT_FOUND');
    const bad = await admin(relay.baseUrl, 'POST', '/suspend/tenant?tenant_id=nope');
    assert.equal(bad.status, 422);
    assert.deepEqual(bad.body.error.details, ['tenant_id: must be a tenant id (tnt_…)']);
  });

  it('lists every invalid field in a 422', async () => {
    const r = await admin(relay.baseUrl, 'POST', '/provision/tenant', {
      tenant_name: '',
      rate_limit_per_min: 20_000,
      branding_logo_url: 'http://insecure.example.com/logo.png',
      surprise: true,
    });
    assert.equal(r.status, 422);
    assert.equal(r.body.error.code, 'VALIDATION_FAILED');
    const fields = r.body.error.details.map((d: string) => d.split(':')[0]);
    for (const f of ['tenant_name', 'rate_limit_per_min', 'branding_logo_url', '(body)'])
      assert.ok(fields.includes(f), `${f} in ${fields}`);
  });

  it('never writes a secret to the logs', async () => {
    // A relay whose logs we capture, driven through provision, rotation and a signed call.
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _e, cb) => (lines.push(String(chunk)), cb()) });
    const logger = createLogger('trace', 'test', sink);
    const redis = apiRedis(relay.config.redisUrl);
    const app = buildApp({
      config: relay.config,
      logger,
      redis,
      producer: relay.producer,
      tenants: new TenantStore(redis, relay.config.secretsMasterKey, relay.config.queuePrefix),
    });
    const server = http.createServer(app.callback());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const creds = await provision(url);
      const rot = await admin(url, 'POST', `/rotate/tenant-secret?tenant_id=${creds.tenantId}`, {});
      const fresh = { ...creds, secret: rot.body.data.tenant_secret };
      await signed(url, fresh, 'POST', '/relay/send/test-callback', {});
      await signed(url, creds, 'POST', '/relay/send/test-callback', {}); // refused: the error must not echo anything either
      const all = lines.join('');
      assert.ok(lines.length >= 4, 'requests were logged');
      for (const secret of [creds.secret, fresh.secret, 'test-admin-key']) assert.ok(!all.includes(secret), 'secret leaked into logs');
      assert.ok(!/x-bloonio-signature":"[0-9a-f]{64}/i.test(all), 'signature leaked into logs');
    } finally {
      server.closeAllConnections();
      server.close();
      await redis.quit();
    }
  });
});
