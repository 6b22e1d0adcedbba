/**
 * The shared security suite every signed (/relay/*) route must pass (HMAC #1, docs/contract.md §1.2). A route's
 * test file calls `signedRouteSecurity(...)` with a way to build a valid request; the suite then
 * breaks one thing at a time and checks the status and error code a tenant developer would see.
 */
import assert from 'node:assert/strict';
import { admin, provision, signed, type TenantCreds } from './client.js';

export type SignedRouteCase = {
  method: 'GET' | 'POST';
  path: string;
  /** A body the route accepts for this tenant (called per request, so it can be fresh each time). */
  body?: (creds: TenantCreds) => unknown | Promise<unknown>;
  /** The route's success status for a valid request. */
  okStatus: number;
  /** Settings of the tenants the suite provisions, for routes that need some (e.g. passkeys: an RP id and origins). */
  tenantSettings?: Record<string, unknown>;
};

export type SuiteContext = { baseUrl: string; secondBaseUrl: string };

export function signedRouteSecurity(title: string, ctx: () => SuiteContext, route: SignedRouteCase): void {
  describe(`HMAC security suite: ${route.method} ${route.path} (${title})`, () => {
    let creds: TenantCreds;
    const body = async () => (route.body ? route.body(creds) : undefined);
    const send = async (o: Parameters<typeof signed>[5] = {}, c = creds, url = ctx().baseUrl) =>
      signed(url, c, route.method, route.path, await body(), o);
    const expectError = (r: Awaited<ReturnType<typeof send>>, status: number, code: string) => {
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.equal(r.body.success, false);
      assert.equal(r.body.error?.code, code);
      assert.ok(r.body.error?.request_id, 'error envelope carries a request id');
    };

    before(async () => {
      creds = await provision(ctx().baseUrl, { rate_limit_per_min: 10_000, ...route.tenantSettings });
    });

    it('accepts a correctly signed request', async () => {
      const r = await send();
      assert.equal(r.status, route.okStatus, JSON.stringify(r.body));
    });
    for (const header of ['tenant', 'timestamp', 'signature'] as const) {
      it(`401 when the ${header} header is missing`, async () =>
        expectError(await send({ omit: [header] }), 401, 'MISSING_SIGNATURE_HEADERS'));
    }
    it('401 for a bad signature', async () => expectError(await send({ signature: 'ab'.repeat(32) }), 401, 'INVALID_SIGNATURE'));
    it('401 for a signature made with another secret', async () =>
      expectError(await send({ secret: 'sk_wrong' }), 401, 'INVALID_SIGNATURE'));
    if (route.method === 'POST') {
      it('401 when the body is changed after signing', async () => {
        const original = JSON.stringify(await body());
        const tampered = original.replace(/}$/, ',"x":1}');
        expectError(await send({ tamperBody: tampered }), 401, 'INVALID_SIGNATURE');
      });
    }
    it('401 for a timestamp 31 s old', async () =>
      expectError(await send({ timestampMs: Date.now() - 31_000 }), 401, 'TIMESTAMP_OUT_OF_WINDOW'));
    it('401 for a timestamp 31 s ahead', async () =>
      expectError(await send({ timestampMs: Date.now() + 31_000 }), 401, 'TIMESTAMP_OUT_OF_WINDOW'));
    it('accepts a timestamp 29 s old', async () => {
      const r = await send({ timestampMs: Date.now() - 29_000 });
      assert.equal(r.status, route.okStatus, JSON.stringify(r.body));
    });
    it('401 for a timestamp in seconds instead of milliseconds', async () =>
      expectError(await send({ timestampMs: Math.floor(Date.now() / 1000) }), 401, 'TIMESTAMP_OUT_OF_WINDOW'));
    it('401 for a replay, on the same API process and on a second one', async () => {
      const ts = Date.now();
      const b = await body();
      const first = await signed(ctx().baseUrl, creds, route.method, route.path, b, { timestampMs: ts });
      assert.equal(first.status, route.okStatus, JSON.stringify(first.body));
      expectError(await signed(ctx().baseUrl, creds, route.method, route.path, b, { timestampMs: ts }), 401, 'REPLAY_DETECTED');
      expectError(await signed(ctx().secondBaseUrl, creds, route.method, route.path, b, { timestampMs: ts }), 401, 'REPLAY_DETECTED');
    });
    it('401 for an unknown tenant, answered exactly as a wrong signature', async () => {
      const unknown = await send({ tenantId: 'tnt_000000000000000000000000' });
      const forged = await send({ signature: 'ab'.repeat(32) });
      expectError(unknown, 401, 'INVALID_SIGNATURE');
      const same = (b: any) => ({ ...b, error: { ...b.error, request_id: null } });
      assert.deepEqual(same(unknown.body), same(forged.body), 'same status, message and code');
    });
    it('403 for a suspended tenant (on both API processes), accepted again once reactivated', async () => {
      const other = await provision(ctx().baseUrl, { rate_limit_per_min: 10_000, ...route.tenantSettings });
      assert.equal((await admin(ctx().baseUrl, 'POST', `/suspend/tenant?tenant_id=${other.tenantId}`)).status, 200);
      expectError(await send({}, other), 403, 'TENANT_SUSPENDED');
      expectError(await send({}, other, ctx().secondBaseUrl), 403, 'TENANT_SUSPENDED');
      assert.equal((await admin(ctx().baseUrl, 'POST', `/reactivate/tenant?tenant_id=${other.tenantId}`)).status, 200);
      const again = await send({}, other, ctx().secondBaseUrl);
      assert.equal(again.status, route.okStatus, JSON.stringify(again.body));
    });
  });
}
