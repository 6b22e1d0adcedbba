/**
 * Security suites generated from the route table: every route of every security kind is attacked with
 * the credentials a caller could get wrong — missing, forged, expired, revoked, another tenant's, a
 * suspended tenant's — and must refuse each with the documented status and code before its handler
 * runs; a correct credential must get past the gate (any answer but 401/403/5xx: a 422 for the empty
 * body proves the handler was reached). No hand-kept list: a route added to api/routes.ts is covered
 * by its kind's suite, and a kind without a suite fails this file.
 */
import assert from 'node:assert/strict';
import { mintOperatorToken } from '../../api/principals/operator.js';
import { mintVisitorToken, widgetKeyHash } from '../../api/principals/visitor.js';
import { SECURITY_KINDS, type Security } from '../../api/principals/types.js';
import type { AnyRoute } from '../../api/route.js';
import { ROUTES } from '../../api/routes.js';
import { DeviceModel } from '../../models/auth/device.js';
import { mintToken } from '../../platform/tokens.js';
import { Redis } from 'ioredis';
import { seedConsoleAccount } from '../console/seed.js';
import { DeviceClient } from '../../scripts/device.js';
import { newUserHash, pairDevice, prepareProof } from '../auth/support.js';
import { createSession, provisionOperator } from '../support/chat-client.js';
import { admin, call, provision, signed, type Res, type TenantCreds } from '../support/client.js';
import { ADMIN_KEY } from '../support/env.js';
import { startRelay, type Relay } from '../support/harness.js';
import { redisKey } from '../../platform/keys.js';

const ORIGIN = 'https://shop.example.com';
type Expect = [number, string] | 'accepted';
/** What the route must answer; a function when it depends on the route (e.g. a console route's role). */
type Case = { name: string; run: (route: AnyRoute) => Promise<Res<any>>; expect: Expect | ((route: AnyRoute) => Expect) };

const byKind = new Map<Security, AnyRoute[]>();
for (const r of ROUTES) byKind.set(r.security as Security, [...(byKind.get(r.security as Security) ?? []), r]);

describe('security suites generated from the route table', function () {
  this.timeout(120_000);
  let relay: Relay;
  let a: TenantCreds;
  let suspended: TenantCreds;
  const counts = new Map<Security, { routes: number; checks: number }>();

  const path = (r: AnyRoute) => `/api/v1${r.path}`;
  const method = (r: AnyRoute) => r.method.toUpperCase();
  const bodyOf = (r: AnyRoute) => (r.method === 'get' ? undefined : '{}');
  const bearer = (r: AnyRoute, token: string | null, extra: Record<string, string> = {}) =>
    call(relay.baseUrl, method(r), path(r), {
      headers: {
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
        ...(bodyOf(r) ? { 'Content-Type': 'application/json' } : {}),
        ...extra,
      },
      ...(bodyOf(r) ? { body: bodyOf(r) } : {}),
    });

  before(async () => {
    relay = await startRelay('route_security');
    a = await provision(relay.baseUrl, { rate_limit_per_min: 10_000, allowed_origins: [ORIGIN] });
    suspended = await provision(relay.baseUrl, { rate_limit_per_min: 10_000, allowed_origins: [ORIGIN] });
    assert.equal((await admin(relay.baseUrl, 'POST', `/suspend/tenant?tenant_id=${suspended.tenantId}`)).status, 200);
  });
  after(async () => {
    // Public routes (`none`) have no credential to attack: each checks its own origin or key (their own tests).
    const line = SECURITY_KINDS.map(
      (k) => `${k}: ${counts.get(k)?.routes ?? 0} of ${byKind.get(k)?.length ?? 0} routes, ${counts.get(k)?.checks ?? 0} checks`,
    ).join('; ');
    console.log(`      generated security suites: ${line}`);
    await relay?.stop();
  });

  /** A device of tenant `c` (fresh per use: some device routes rotate or revoke the session they are called with). */
  const device = async (c = a) => pairDevice(relay.baseUrl, c, newUserHash());
  const deviceCall = (d: DeviceClient, r: AnyRoute, o: Parameters<DeviceClient['request']>[3] = {}) =>
    d.request(method(r) as 'GET' | 'POST', r.path, bodyOf(r) ? {} : undefined, o) as Promise<Res<any>>;

  const suites: Record<Security, () => Case[]> = {
    none: () => [],
    admin: () => [
      { name: 'no X-Admin-Key', run: (r) => call(relay.baseUrl, method(r), path(r)), expect: [401, 'INVALID_ADMIN_KEY'] },
      {
        name: 'a wrong admin key',
        run: (r) => call(relay.baseUrl, method(r), path(r), { headers: { 'X-Admin-Key': `${ADMIN_KEY}x` } }),
        expect: [401, 'INVALID_ADMIN_KEY'],
      },
      { name: 'the admin key', run: (r) => admin(relay.baseUrl, method(r), r.path, bodyOf(r) ? {} : undefined), expect: 'accepted' },
    ],
    hmac: () => {
      const send = (r: AnyRoute, o: Parameters<typeof signed>[5] = {}, c = a) =>
        signed(relay.baseUrl, c, method(r), r.path, bodyOf(r) ? {} : undefined, o);
      return [
        { name: 'no signature headers', run: (r) => send(r, { omit: ['signature'] }), expect: [401, 'MISSING_SIGNATURE_HEADERS'] },
        { name: 'a forged signature', run: (r) => send(r, { signature: 'ab'.repeat(32) }), expect: [401, 'INVALID_SIGNATURE'] },
        { name: "another tenant's secret", run: (r) => send(r, { secret: suspended.secret }), expect: [401, 'INVALID_SIGNATURE'] },
        { name: 'a stale timestamp', run: (r) => send(r, { timestampMs: Date.now() - 31_000 }), expect: [401, 'TIMESTAMP_OUT_OF_WINDOW'] },
        {
          name: 'an unknown tenant',
          run: (r) => send(r, { tenantId: 'tnt_000000000000000000000000' }),
          expect: [401, 'INVALID_SIGNATURE'],
        },
        { name: 'a suspended tenant', run: (r) => send(r, {}, suspended), expect: [403, 'TENANT_SUSPENDED'] },
        {
          name: 'a replayed request',
          run: async (r) => {
            const ts = Date.now();
            await send(r, { timestampMs: ts });
            return send(r, { timestampMs: ts });
          },
          expect: [401, 'REPLAY_DETECTED'],
        },
        { name: 'a correct signature', run: (r) => send(r), expect: 'accepted' },
      ];
    },
    device: () => [
      { name: 'no bearer token', run: async (r) => deviceCall(await device(), r, { bearer: '' }), expect: [401, 'INVALID_TOKEN'] },
      {
        name: 'a forged session token',
        run: async (r) => deviceCall(await device(), r, { bearer: `dst_${'x'.repeat(43)}` }),
        expect: [401, 'INVALID_TOKEN'],
      },
      {
        name: 'a pairing proof instead of a session',
        run: async (r) => deviceCall(await device(), r, { bearer: await prepareProof(relay.baseUrl, a, newUserHash()) }),
        expect: [401, 'INVALID_TOKEN'],
      },
      {
        name: 'an expired session',
        run: async (r) => {
          const d = await device();
          await DeviceModel.updateOne({ _id: d.state.deviceId }, { $set: { session_expires_at: new Date(Date.now() - 1000) } });
          return deviceCall(d, r);
        },
        expect: [401, 'INVALID_TOKEN'],
      },
      {
        name: 'a revoked device',
        run: async (r) => {
          const d = await device();
          await d.unpair();
          return deviceCall(d, r);
        },
        expect: [401, 'INVALID_TOKEN'],
      },
      {
        name: 'the session token without the device signature',
        run: async (r) => bearer(r, (await device()).state.sessionToken ?? ''),
        expect: [401, 'MISSING_SIGNATURE_HEADERS'],
      },
      {
        name: 'the session token signed by another key',
        run: async (r) => {
          const d = await device();
          const stranger = DeviceClient.create(relay.baseUrl);
          stranger.state.sessionToken = d.state.sessionToken;
          return deviceCall(stranger, r);
        },
        expect: [401, 'INVALID_SIGNATURE'],
      },
      {
        name: "a suspended tenant's device",
        run: async (r) => {
          const t = await provision(relay.baseUrl, { rate_limit_per_min: 10_000 });
          const d = await device(t);
          await admin(relay.baseUrl, 'POST', `/suspend/tenant?tenant_id=${t.tenantId}`);
          return deviceCall(d, r);
        },
        expect: [403, 'TENANT_SUSPENDED'],
      },
      { name: 'a signed request of a paired device', run: async (r) => deviceCall(await device(), r), expect: 'accepted' },
    ],
    'pairing-proof': () => {
      const proof = () => prepareProof(relay.baseUrl, a, newUserHash());
      const register = (bearerToken: string, o: { tenantId?: string; client?: DeviceClient } = {}) => {
        const d = o.client ?? DeviceClient.create(relay.baseUrl);
        return d.request(
          'POST',
          '/device/register-token',
          { public_key: d.state.publicJwk, platform: 'cli', device_name: 'suite', ...(o.tenantId ? { tenant_id: o.tenantId } : {}) },
          { bearer: bearerToken },
        ) as Promise<Res<any>>;
      };
      return [
        { name: 'no bearer token', run: () => register(''), expect: [401, 'INVALID_TOKEN'] },
        { name: 'a forged proof', run: async () => register(`${await proof()}x`), expect: [401, 'INVALID_TOKEN'] },
        {
          name: 'a visitor token instead of a proof',
          run: async () => {
            const s = await createSession(relay.baseUrl, a, ORIGIN);
            return register(s.token);
          },
          expect: [401, 'INVALID_TOKEN'],
        },
        {
          name: 'an expired proof',
          run: async () => {
            const claims = JSON.parse(Buffer.from((await proof()).split('.')[1] ?? '', 'base64url').toString()) as { pin: string };
            return register(
              mintToken(relay.config.secretsMasterKey, 'pairing', { tid: a.tenantId, pin: claims.pin }, 300, Date.now() - 301_000).token,
            );
          },
          expect: [410, 'EXPIRED'],
        },
        {
          name: 'a proof presented for another tenant',
          run: async () => register(await proof(), { tenantId: suspended.tenantId }),
          expect: [401, 'INVALID_TOKEN'],
        },
        {
          name: "a suspended tenant's proof",
          run: async () => {
            const t = await provision(relay.baseUrl, { rate_limit_per_min: 10_000 });
            const p = await prepareProof(relay.baseUrl, t, newUserHash());
            await admin(relay.baseUrl, 'POST', `/suspend/tenant?tenant_id=${t.tenantId}`);
            return register(p);
          },
          expect: [403, 'TENANT_SUSPENDED'],
        },
        {
          name: 'a request not signed by the key being registered',
          run: async () => {
            const d = DeviceClient.create(relay.baseUrl);
            const other = DeviceClient.create(relay.baseUrl);
            return d.request(
              'POST',
              '/device/register-token',
              { public_key: other.state.publicJwk, platform: 'cli', device_name: 'suite' },
              { bearer: await proof() },
            ) as Promise<Res<any>>;
          },
          expect: [401, 'INVALID_SIGNATURE'],
        },
        { name: 'a fresh proof, signed by its key', run: async () => register(await proof()), expect: 'accepted' },
      ];
    },
    operator: () => {
      const op = () => provisionOperator(relay.baseUrl, a, `op-${Math.random().toString(36).slice(2, 8)}@example.com`);
      return [
        { name: 'no bearer token', run: (r) => bearer(r, null), expect: [401, 'INVALID_TOKEN'] },
        { name: 'a forged token', run: async (r) => bearer(r, `${(await op()).token}x`), expect: [401, 'INVALID_TOKEN'] },
        {
          name: 'an expired token',
          run: async (r) => bearer(r, mintOperatorToken(relay.config, (await op()).id, { [a.tenantId]: 'agent' }, -10).token),
          expect: [401, 'INVALID_TOKEN'],
        },
        {
          name: 'a visitor token',
          run: async (r) => bearer(r, (await createSession(relay.baseUrl, a, ORIGIN)).token),
          expect: [401, 'INVALID_TOKEN'],
        },
        {
          name: "a deprovisioned operator's token",
          run: async (r) => {
            const o = await op();
            const d = await signed(relay.baseUrl, a, 'POST', '/relay/deprovision/operator', { operator_id: o.id });
            if (d.status !== 200) throw new Error(`deprovision: ${d.status}`);
            return bearer(r, o.token);
          },
          expect: [401, 'INVALID_TOKEN'],
        },
        {
          name: "another tenant's operator token, naming this tenant",
          run: async (r) => {
            const b = await provision(relay.baseUrl, { rate_limit_per_min: 10_000 });
            const stranger = await provisionOperator(relay.baseUrl, b, 'stranger@example.com');
            return bearer(r, stranger.token, { 'X-Bloonio-Tenant-Id': a.tenantId });
          },
          expect: [403, 'FORBIDDEN'],
        },
        {
          name: "a suspended tenant's operator",
          run: async (r) => {
            const t = await provision(relay.baseUrl, { rate_limit_per_min: 10_000 });
            const o = await provisionOperator(relay.baseUrl, t, 'op@example.com');
            await admin(relay.baseUrl, 'POST', `/suspend/tenant?tenant_id=${t.tenantId}`);
            return bearer(r, o.token);
          },
          expect: [403, 'FORBIDDEN'],
        },
        { name: 'a valid operator token', run: async (r) => bearer(r, (await op()).token), expect: 'accepted' },
      ];
    },
    visitor: () => visitorCases(false),
    'visitor-refresh': () => visitorCases(true),
    console: () => consoleCases(),
  };

  /**
   * Console tokens: each case gets fresh sessions (a route such as logout ends the one it is called
   * with). Routes with a `consoleRole` name the owner's workspace in `?workspace_id=`.
   */
  function consoleCases(): Case[] {
    // Built on first use: the cases are listed when the file loads, before the relay runs.
    let redis: Redis | undefined;
    const deps = () => ({ config: relay.config, redis: (redis ??= new Redis(relay.config.redisUrl)) });
    let owner: Awaited<ReturnType<typeof seedConsoleAccount>> | undefined;
    const theOwner = async () => (owner ??= await seedConsoleAccount(deps()));
    const withWs = async (r: AnyRoute, ws?: string) =>
      r.consoleRole ? { ...r, path: `${r.path}?workspace_id=${ws ?? (await theOwner()).workspaceId}` } : r;
    const send = async (r: AnyRoute, token: string | null, ws?: string) => bearer(await withWs(r, ws), token);
    after(() => redis?.disconnect());
    return [
      { name: 'no bearer token', run: (r) => send(r, null), expect: [401, 'INVALID_TOKEN'] },
      { name: 'a forged token', run: async (r) => send(r, `${await (await theOwner()).session()}x`), expect: [401, 'INVALID_TOKEN'] },
      {
        name: 'an expired token of a live session',
        run: async (r) => {
          const o = await theOwner();
          const sid = JSON.parse(Buffer.from((await o.session()).split('.')[1] ?? '', 'base64url').toString()).sid as string;
          return send(r, mintToken(relay.config.secretsMasterKey, 'console', { kind: 'tenant_admin', sub: o.accountId, sid }, -10).token);
        },
        expect: [401, 'INVALID_TOKEN'],
      },
      {
        name: 'an operator token',
        run: async (r) => send(r, (await provisionOperator(relay.baseUrl, a, 'c-op@example.com')).token),
        expect: [401, 'INVALID_TOKEN'],
      },
      {
        name: 'the token of a logged-out session',
        run: async (r) => {
          const token = await (await theOwner()).session();
          assert.equal(
            (await call(relay.baseUrl, 'POST', '/api/v1/console/logout', { headers: { Authorization: `Bearer ${token}` } })).status,
            200,
          );
          return send(r, token);
        },
        expect: [401, 'INVALID_TOKEN'],
      },
      {
        name: "a removed member's token",
        run: async (r) => {
          const o = await theOwner();
          const m = await seedConsoleAccount(deps(), { workspaceId: o.workspaceId, role: 'admin' });
          const token = await m.session();
          const removed = await call(relay.baseUrl, 'POST', `/api/v1/console/remove/member?workspace_id=${o.workspaceId}`, {
            headers: { Authorization: `Bearer ${await o.session()}`, 'Content-Type': 'application/json' },
            body: JSON.stringify({ account_id: m.accountId }),
          });
          assert.equal(removed.status, 200, JSON.stringify(removed.body));
          return send(r, token);
        },
        expect: [401, 'INVALID_TOKEN'],
      },
      {
        name: 'a member on a route that needs more',
        run: async (r) => {
          const m = await seedConsoleAccount(deps(), { workspaceId: (await theOwner()).workspaceId, role: 'member' });
          return send(r, await m.session());
        },
        expect: (r) => (r.consoleRole && r.consoleRole !== 'member' ? [403, 'FORBIDDEN'] : 'accepted'),
      },
      {
        name: "another team's workspace",
        run: async (r) => {
          const stranger = await seedConsoleAccount(deps());
          return send(r, await stranger.session(), (await theOwner()).workspaceId);
        },
        expect: (r) => (r.consoleRole ? [404, 'NOT_FOUND'] : 'accepted'),
      },
      {
        // Step-up routes (`consoleStepUp: true`) refuse a session whose last password or TOTP is old.
        name: 'a session authenticated an hour ago',
        run: async (r) => {
          const token = await (await theOwner()).session();
          const sid = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()).sid as string;
          const k = redisKey.consoleSession(relay.config.queuePrefix, sid);
          const rec = JSON.parse((await deps().redis.get(k)) ?? '{}');
          await deps().redis.set(k, JSON.stringify({ ...rec, auth_at: Date.now() - 3_600_000 }), 'KEEPTTL');
          return send(r, token);
        },
        expect: (r) => (r.consoleStepUp === true ? [403, 'STEP_UP_REQUIRED'] : 'accepted'),
      },
      { name: "the owner's live session", run: async (r) => send(r, await (await theOwner()).session()), expect: 'accepted' },
    ];
  }

  function visitorCases(refresh: boolean): Case[] {
    const session = () => createSession(relay.baseUrl, a, ORIGIN);
    const originHeader = { Origin: ORIGIN };
    return [
      { name: 'no bearer token', run: (r) => bearer(r, null, originHeader), expect: [401, 'INVALID_TOKEN'] },
      { name: 'a forged token', run: async (r) => bearer(r, `${(await session()).token}x`, originHeader), expect: [401, 'INVALID_TOKEN'] },
      {
        name: 'an operator token',
        run: async (r) => bearer(r, (await provisionOperator(relay.baseUrl, a, 'v-op@example.com')).token, originHeader),
        expect: [401, 'INVALID_TOKEN'],
      },
      {
        name: refresh ? 'an expired token (refreshable)' : 'an expired token',
        run: async (r) => {
          const s = await session();
          const claims = { tid: a.tenantId, sid: s.sessionId, wkh: widgetKeyHash(a.widgetKey), org: ORIGIN };
          return bearer(r, mintVisitorToken(relay.config, claims, -10).token, originHeader);
        },
        expect: refresh ? 'accepted' : [401, 'INVALID_TOKEN'],
      },
      {
        name: 'a token of a rotated widget key',
        run: async (r) => {
          const t = await provision(relay.baseUrl, { rate_limit_per_min: 10_000, allowed_origins: [ORIGIN] });
          const s = await createSession(relay.baseUrl, t, ORIGIN);
          await admin(relay.baseUrl, 'POST', `/rotate/widget-key?tenant_id=${t.tenantId}`);
          return bearer(r, s.token, originHeader);
        },
        expect: [401, 'INVALID_TOKEN'],
      },
      {
        name: 'a foreign Origin',
        run: async (r) => bearer(r, (await session()).token, { Origin: 'https://evil.example' }),
        expect: [403, 'ORIGIN_NOT_ALLOWED'],
      },
      {
        name: "a suspended tenant's visitor",
        run: async (r) => {
          const t = await provision(relay.baseUrl, { rate_limit_per_min: 10_000, allowed_origins: [ORIGIN] });
          const s = await createSession(relay.baseUrl, t, ORIGIN);
          await admin(relay.baseUrl, 'POST', `/suspend/tenant?tenant_id=${t.tenantId}`);
          return bearer(r, s.token, originHeader);
        },
        expect: [403, 'TENANT_SUSPENDED'],
      },
      { name: 'a valid visitor token', run: async (r) => bearer(r, (await session()).token, originHeader), expect: 'accepted' },
    ];
  }

  it('every security kind has a suite (a new kind cannot go untested)', () => {
    for (const kind of byKind.keys()) assert.ok(kind in suites, `no generated suite for security kind ${kind}`);
  });

  for (const kind of SECURITY_KINDS) {
    const routes = byKind.get(kind) ?? [];
    const cases = suites[kind]();
    if (!routes.length || !cases.length) continue;
    describe(`${kind} (${routes.length} routes)`, () => {
      for (const route of routes) {
        it(`${route.method.toUpperCase()} ${route.path}: ${cases.map((c) => c.name).join('; ')}`, async () => {
          for (const c of cases) {
            const r = await c.run(route);
            const what = `${c.name} → ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`;
            const expect = typeof c.expect === 'function' ? c.expect(route) : c.expect;
            if (expect === 'accepted') {
              assert.ok(![401, 403].includes(r.status) && r.status < 500, `accepted past the gate: ${what}`);
            } else {
              assert.equal(r.status, expect[0], what);
              assert.equal(r.body.error?.code, expect[1], what);
              assert.ok(r.body.error?.request_id, `error envelope: ${what}`);
            }
          }
          const n = counts.get(kind) ?? { routes: 0, checks: 0 };
          counts.set(kind, { routes: n.routes + 1, checks: n.checks + cases.length });
        });
      }
    });
  }
});
