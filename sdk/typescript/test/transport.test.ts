/**
 * Settings, retries, timeouts and verifyCallback, for real: a genuine 429 from a tenant with a low
 * rate limit, a closed port, a server that never answers, and callbacks the relay signed.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  BloonioAuth,
  CallbackVerificationError,
  ConfigurationError,
  MemoryKV,
  RateLimitedError,
  RelayClient,
  RelayConnectionError,
  RelaySettings,
  RelayTimeoutError,
  replayStore,
  verifyCallback,
} from '../src/index.js';
import { eventually, freePort, relay, socketHash, type Relay, type Tenant } from './support/relay.js';

const code = (e: unknown) => (e as { code?: string }).code ?? String(e);

/**
 * Started when this file is loaded, before any test runs: the relay's limit is a per-minute window,
 * so honouring a real Retry-After means waiting up to a minute, which the other files then overlap.
 */
async function rateLimitProbe(r: Relay) {
  const t = await r.provision('ts-ratelimited', { rate_limit_per_min: 2 });
  const settings = { baseUrl: r.url, tenantId: t.tenantId, tenantSecret: t.tenantSecret };
  const out: Record<string, unknown> & { sleeps: number[]; waited: number[]; first: string[] } = { sleeps: [], waited: [], first: [] };
  const user = socketHash();
  const noRetry = new RelayClient({ ...settings, maxRetries: 0 });
  for (let i = 0; i < 2; i++) out.first.push(await noRetry.fetchDevices({ userSocketHash: user }).then(String, code));
  out.limited = await noRetry.fetchDevices({ userSocketHash: user }).catch((e: unknown) => e);
  const record = async (ms: number) => void out.sleeps.push(ms);
  // A Retry-After longer than the caller agreed to wait: thrown at once, the wait on the error.
  const impatient = new RelayClient({ ...settings, maxRetries: 2, maxRetryWaitMs: 500 }, { sleep: record });
  out.impatient = await impatient.fetchDevices({ userSocketHash: user }).catch((e: unknown) => e);
  // A POST that is not idempotent is never retried, whatever the wait.
  const posting = new RelayClient({ ...settings, maxRetries: 3, maxRetryWaitMs: 120_000 }, { sleep: record });
  out.posting = await posting.sendTestCallback().catch((e: unknown) => e);
  // A GET waits what Retry-After says (really: the relay's window has to move on), then gets through.
  const patient = new RelayClient(
    { ...settings, maxRetries: 2, maxRetryWaitMs: 65_000 },
    { sleep: (ms) => (out.waited.push(ms), new Promise((res) => setTimeout(res, ms))) },
  );
  out.patient = await patient.fetchDevices({ userSocketHash: user }).then(String, code);
  return out;
}
const probe = relay().then(rateLimitProbe);
probe.catch(() => undefined); // reported by the test that reads it

describe('settings', function () {
  it('reads BLOONIO_RELAY_* with the Python SDK’s names, units and defaults', () => {
    const s = new RelaySettings({
      env: {
        BLOONIO_RELAY_BASE_URL: 'https://auth-relay.bloonio.com/api/v1/',
        BLOONIO_RELAY_TENANT_ID: 'tnt_abc',
        BLOONIO_RELAY_TENANT_SECRET: 'sk_abc',
        BLOONIO_RELAY_STATE_BACKEND_URL: 'redis://localhost:6379/0',
        BLOONIO_RELAY_TIMEOUT: '2.5',
      },
    });
    assert.deepEqual(
      [s.baseUrl, s.stateBackend, s.callbackPath, s.timeoutMs, s.maxRetries, s.maxRetryWaitMs, s.sudoTtlSeconds, s.pendingOpTtlSeconds],
      ['https://auth-relay.bloonio.com', 'redis', '/api/sudo-callback', 2500, 2, 10_000, 180, 1800],
    );
    assert.equal(s.tenantSecret, 'sk_abc');
    assert.ok(!JSON.stringify(s).includes('sk_abc'), 'the secret stays out of JSON.stringify');
    assert.ok(!Object.keys(s).includes('tenantSecret'));
  });

  it('a missing or bad setting throws one ConfigurationError naming each', () => {
    assert.throws(
      () =>
        new RelaySettings({
          env: { BLOONIO_RELAY_BASE_URL: 'ftp://x', BLOONIO_RELAY_STATE_BACKEND: 'disk', BLOONIO_RELAY_TIMEOUT: 'soon' },
        }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigurationError);
        for (const part of [
          'BLOONIO_RELAY_BASE_URL must be an http(s) URL',
          'BLOONIO_RELAY_TENANT_ID is missing',
          'BLOONIO_RELAY_TENANT_SECRET is missing',
          'BLOONIO_RELAY_STATE_BACKEND must be one of',
          'BLOONIO_RELAY_TIMEOUT must be a number',
        ]) {
          assert.ok(e.message.includes(part), `${part} in: ${e.message}`);
        }
        return true;
      },
    );
    assert.throws(
      () => new RelayClient({ baseUrl: 'http://x', tenantId: 'tnt_a', tenantSecret: 'sk_a', timeoutMs: -1 }),
      /timeoutMs must be between/,
    );
  });

  it('a client needs no state; BloonioAuth names the missing state URL at start', () => {
    const env = { BLOONIO_RELAY_BASE_URL: 'http://x', BLOONIO_RELAY_TENANT_ID: 'tnt_a', BLOONIO_RELAY_TENANT_SECRET: 'sk_a' };
    assert.ok(RelayClient.fromEnv(env));
    assert.throws(() => new BloonioAuth({ settings: new RelaySettings({ env }) }), /BLOONIO_RELAY_STATE_BACKEND_URL is missing/);
    assert.ok(new BloonioAuth({ settings: new RelaySettings({ env: { ...env, BLOONIO_RELAY_STATE_BACKEND: 'memory' } }) }));
  });
});

describe('retries and timeouts', function () {
  this.timeout(150_000);
  let r: Relay;
  let tenant: Tenant;
  before(async function () {
    this.timeout(120_000);
    r = await relay();
    tenant = await r.provision('ts-transport');
  });

  it('a real 429 is typed, and only idempotent calls wait its Retry-After and retry', async () => {
    const out = await probe;
    assert.deepEqual(out.first, ['NOT_FOUND', 'NOT_FOUND']);
    const err = out.limited as RateLimitedError;
    assert.ok(err instanceof RateLimitedError, String(err));
    assert.deepEqual([err.code, err.statusCode], ['RATE_LIMITED', 429]);
    assert.ok(err.requestId);
    assert.ok(err.retryAfter !== null && err.retryAfter >= 1 && err.retryAfter <= 60, `retryAfter ${err.retryAfter}`);
    assert.ok(out.impatient instanceof RateLimitedError);
    assert.ok(out.posting instanceof RateLimitedError);
    assert.deepEqual(out.sleeps, []); // neither waited
    assert.equal(out.patient, 'NOT_FOUND'); // past the limit: the relay's real answer
    assert.ok(out.waited.length >= 1 && out.waited[0]! >= (err.retryAfter! - 2) * 1000, `waited ${out.waited.join(', ')} ms`);
  });

  it('connection errors retry idempotent calls only, with growing backoff', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const sleeps: number[] = [];
    const c = new RelayClient(
      { baseUrl: closed, tenantId: tenant.tenantId, tenantSecret: tenant.tenantSecret, maxRetries: 3 },
      { sleep: async (ms) => void sleeps.push(ms) },
    );
    await assert.rejects(
      c.fetchDevices({ userSocketHash: socketHash() }),
      (e: unknown) => e instanceof RelayConnectionError && /ECONNREFUSED/.test(String(e)),
    );
    assert.equal(sleeps.length, 3);
    assert.ok(sleeps.every((d) => d > 0 && d <= 8000));
    assert.ok(sleeps[2]! > sleeps[0]!, `backoff grows: ${sleeps.join(', ')}`);
    sleeps.length = 0;
    await assert.rejects(
      c.preparePairing({ userSocketHash: socketHash(), backendUserId: 'u', userEmail: 'a@example.com', displayName: 'X' }),
      RelayConnectionError,
    );
    assert.deepEqual(sleeps, []); // not idempotent: never sent twice
    await assert.rejects(c.revokeDevice({ userSocketHash: socketHash(), deviceId: `dev_${'0'.repeat(26)}` }), RelayConnectionError);
    assert.equal(sleeps.length, 3); // documented idempotent: retried
  });

  it('times out on a server that never answers, and a caller’s abort is its own', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => void sockets.push(s));
    await new Promise<void>((res) => silent.listen(0, '127.0.0.1', res));
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const c = new RelayClient({
        baseUrl: url,
        tenantId: tenant.tenantId,
        tenantSecret: tenant.tenantSecret,
        timeoutMs: 300,
        maxRetries: 0,
      });
      const t0 = Date.now();
      await assert.rejects(c.fetchDevices({ userSocketHash: socketHash() }), RelayTimeoutError);
      assert.ok(Date.now() - t0 < 3000);
      const ac = new AbortController();
      setTimeout(() => ac.abort(new Error('the user left')), 100);
      await assert.rejects(c.fetchDevices({ userSocketHash: socketHash() }, { signal: ac.signal, timeoutMs: 5000 }), /the user left/);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((res) => silent.close(res));
    }
  });
});

describe('verifyCallback with callbacks the relay signed', function () {
  this.timeout(60_000);
  let r: Relay;
  const got: { path: string; headers: http.IncomingHttpHeaders; raw: Buffer }[] = [];
  let receiver: http.Server;
  let url: string;

  before(async function () {
    this.timeout(120_000);
    r = await relay();
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        got.push({ path: req.url ?? '', headers: req.headers, raw: Buffer.concat(chunks) });
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"received":true}');
      });
    });
    await new Promise<void>((res) => receiver.listen(0, '127.0.0.1', res));
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });
  after(() => new Promise((res) => receiver.close(res)));

  it('accepts the relay’s signature, typed by event, and nothing else', async () => {
    const t = await r.provision('ts-receiver', { callback_url_base: url });
    const c = new RelayClient({ baseUrl: r.url, tenantId: t.tenantId, tenantSecret: t.tenantSecret });
    const sent = await c.sendTestCallback({ note: 'hello from mocha' });
    const cb = await eventually(() => got[0], 'the relay’s callback');
    assert.equal(cb.path, '/relay-callbacks/test');
    const ev = c.verifyCallback(cb.headers, cb.raw);
    assert.deepEqual([ev.eventId, ev.eventType, ev.tenantId], [sent.eventId, 'platform.test', t.tenantId]);
    if (ev.eventType === 'platform.test') assert.deepEqual(ev.data, { note: 'hello from mocha' });
    assert.equal(JSON.parse(cb.raw.toString()).event_id, sent.eventId);
    // The function itself: several secrets during a rotation, any header case, Fetch API Headers.
    verifyCallback(cb.headers, cb.raw, ['sk_old', t.tenantSecret], { tenantId: t.tenantId });
    const upper = Object.fromEntries(Object.entries(cb.headers).map(([k, v]) => [k.toUpperCase(), v]));
    verifyCallback(upper, cb.raw.toString('utf8'), t.tenantSecret);
    verifyCallback(new Headers(cb.headers as Record<string, string>), new Uint8Array(cb.raw), t.tenantSecret);

    const refused = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        assert.ok(e instanceof CallbackVerificationError, String(e));
        return e.reason;
      }
      return 'accepted';
    };
    const tampered = Buffer.from(cb.raw.toString().replace('hello', 'HELLO'));
    assert.equal(
      refused(() => verifyCallback(cb.headers, tampered, t.tenantSecret)),
      'invalid_signature',
    );
    assert.equal(
      refused(() => verifyCallback(cb.headers, cb.raw, 'sk_other')),
      'invalid_signature',
    );
    assert.equal(
      refused(() => verifyCallback(cb.headers, cb.raw, t.tenantSecret, { tenantId: 'tnt_other' })),
      'wrong_tenant',
    );
    const late = Number(cb.headers['x-bloonio-timestamp']) + 31_000;
    assert.equal(
      refused(() => verifyCallback(cb.headers, cb.raw, t.tenantSecret, { nowMs: late })),
      'timestamp_out_of_window',
    );
    const { 'x-bloonio-signature': _sig, ...noSig } = cb.headers;
    assert.equal(
      refused(() => verifyCallback(noSig, cb.raw, t.tenantSecret)),
      'missing_headers',
    );

    // With a replay store, the same signature is accepted once.
    const store = replayStore(new MemoryKV());
    const once = await verifyCallback(cb.headers, cb.raw, t.tenantSecret, { replayStore: store });
    assert.equal(once.eventId, sent.eventId);
    await assert.rejects(verifyCallback(cb.headers, cb.raw, t.tenantSecret, { replayStore: store }), (e: unknown) => {
      return e instanceof CallbackVerificationError && e.reason === 'replay_detected';
    });
  });
});
