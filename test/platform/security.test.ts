/**
 * HMAC #1 on the platform's own signed route, the shared rate limit across two API processes, and
 * the error envelope for bad input (docs/contract.md §0, §1.2).
 */
import assert from 'node:assert/strict';
import { spawnApi, startRelay, type Child, type Relay } from '../support/harness.js';
import { call, provision, signed, signedHeaders } from '../support/client.js';
import { signedRouteSecurity } from '../support/security-suite.js';

describe('platform: signed routes and the error envelope', () => {
  let relay: Relay;
  let second: Child;
  before(async () => {
    relay = await startRelay('security');
    second = await spawnApi(relay.env);
  });
  after(async () => {
    await second?.kill();
    await relay.stop();
  });

  signedRouteSecurity('platform test callback', () => ({ baseUrl: relay.baseUrl, secondBaseUrl: second.url }), {
    method: 'POST',
    path: '/relay/send/test-callback',
    body: () => ({ note: 'security suite' }),
    okStatus: 409, // signed and accepted; the tenant has no callback_url_base, which the route reports as a conflict
  });

  it('429 with Retry-After and RateLimit-* headers once two API processes together pass the limit', async () => {
    const creds = await provision(relay.baseUrl, { rate_limit_per_min: 6 });
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof signed>> | undefined;
    for (let i = 0; i < 8; i++) {
      const url = i % 2 === 0 ? relay.baseUrl : second.url; // alternate between the two processes
      const r = await signed(url, creds, 'POST', '/relay/send/test-callback', { note: `n${i}` });
      statuses.push(r.status);
      if (r.status === 429) limited ??= r;
      else assert.equal(r.headers.get('ratelimit-limit'), '6');
    }
    assert.deepEqual(statuses, [409, 409, 409, 409, 409, 409, 429, 429]);
    assert.ok(limited);
    assert.equal(limited.body.error.code, 'RATE_LIMITED');
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    assert.equal(limited.headers.get('ratelimit-remaining'), '0');
    assert.ok(limited.headers.get('ratelimit-reset'));
  });

  it('a rate-limited request is not recorded as seen: retrying the same bytes is not called a replay', async () => {
    const creds = await provision(relay.baseUrl, { rate_limit_per_min: 1 });
    assert.equal((await signed(relay.baseUrl, creds, 'POST', '/relay/send/test-callback', {})).status, 409);
    const ts = Date.now();
    const a = await signed(relay.baseUrl, creds, 'POST', '/relay/send/test-callback', { note: 'x' }, { timestampMs: ts });
    const b = await signed(second.url, creds, 'POST', '/relay/send/test-callback', { note: 'x' }, { timestampMs: ts });
    assert.equal(a.status, 429);
    assert.equal(b.status, 429, 'still rate limited, not REPLAY_DETECTED');
  });

  it('400 for malformed JSON, in the envelope', async () => {
    const creds = await provision(relay.baseUrl);
    const raw = '{"note": ';
    const r = await call(relay.baseUrl, 'POST', '/api/v1/relay/send/test-callback', {
      headers: { ...signedHeaders(creds, raw), 'Content-Type': 'application/json' },
      body: raw,
    });
    assert.equal(r.status, 400);
    assert.equal(r.body.success, false);
    assert.equal(r.body.status_code, 400);
    assert.equal(r.body.error.code, 'MALFORMED_JSON');
  });

  it('422 listing each invalid field', async () => {
    const creds = await provision(relay.baseUrl, { callback_url_base: 'http://127.0.0.1:9' });
    const r = await signed(relay.baseUrl, creds, 'POST', '/relay/send/test-callback', { note: 'x'.repeat(600), extra: 1 });
    assert.equal(r.status, 422);
    assert.equal(r.body.error.code, 'VALIDATION_FAILED');
    assert.ok(
      r.body.error.details.some((d: string) => d.startsWith('note:')),
      JSON.stringify(r.body.error.details),
    );
    assert.ok(
      r.body.error.details.some((d: string) => d.includes('extra')),
      JSON.stringify(r.body.error.details),
    );
  });

  it('413 for an oversized body, before any signature work', async () => {
    const big = JSON.stringify({ note: 'x'.repeat(300 * 1024) });
    const r = await call(relay.baseUrl, 'POST', '/api/v1/relay/send/test-callback', {
      headers: { 'Content-Type': 'application/json' },
      body: big,
    });
    assert.equal(r.status, 413);
    assert.equal(r.body.error.code, 'PAYLOAD_TOO_LARGE');
  });

  it('415 for a body that is not JSON', async () => {
    const r = await call(relay.baseUrl, 'POST', '/api/v1/relay/send/test-callback', {
      headers: { 'Content-Type': 'text/plain' },
      body: 'hello',
    });
    assert.equal(r.status, 415);
    assert.equal(r.body.error.code, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('404 for an unknown route, 405 for a wrong method, both in the envelope', async () => {
    const r = await call(relay.baseUrl, 'GET', '/api/v1/no/such/route');
    assert.equal(r.status, 404);
    assert.equal(r.body.error.code, 'ROUTE_NOT_FOUND');
    const m = await call(relay.baseUrl, 'GET', '/api/v1/relay/send/test-callback');
    assert.equal(m.status, 405);
    assert.equal(m.body.error.code, 'METHOD_NOT_ALLOWED');
  });

  it('echoes a request id on every answer, and in the error envelope', async () => {
    const r = await call(relay.baseUrl, 'GET', '/api/v1/nothing', { headers: { 'X-Request-Id': 'trace-abc-123' } });
    assert.equal(r.headers.get('x-request-id'), 'trace-abc-123');
    assert.equal(r.body.error.request_id, 'trace-abc-123');
  });
});
