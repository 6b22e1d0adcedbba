/**
 * Chat Relay security: the shared HMAC suite on every /relay/* chat route (two API processes), and
 * the abuse limits (sessions per IP, messages per session, connections per tenant, idle sockets) on a
 * separate API process started with small limits.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { provision, type TenantCreds } from '../support/client.js';
import { connect, createSession, wsUrl, type ChatClient } from '../support/chat-client.js';
import { spawnApi, startRelay, type Child, type Relay } from '../support/harness.js';
import { signedRouteSecurity } from '../support/security-suite.js';

const ORIGIN = 'https://shop.example.com';
const rnd = () => randomBytes(6).toString('hex');

describe('chat relay security', function () {
  this.timeout(60_000);
  let relay: Relay;
  let api2: Child;
  let limited: Child;
  const clients: ChatClient[] = [];

  before(async () => {
    relay = await startRelay('chat_sec');
    [api2, limited] = await Promise.all([
      spawnApi(relay.env),
      spawnApi({
        ...relay.env,
        CHAT_SESSIONS_PER_IP_PER_HOUR: '3',
        CHAT_MESSAGES_PER_SESSION_PER_MIN: '5',
        CHAT_CONNECTIONS_PER_TENANT: '2',
        CHAT_WS_IDLE_MS: '600',
      }),
    ]);
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await Promise.all([api2?.kill(), limited?.kill()]);
    await relay?.stop();
  });

  const ctx = () => ({ baseUrl: relay.baseUrl, secondBaseUrl: api2.url });
  // Routes whose success needs the tenant's own records are exercised with ids of nothing: once the
  // signature passes they answer 404 (masked), which the suite treats as "accepted".
  signedRouteSecurity('chat', ctx, {
    method: 'POST',
    path: '/relay/provision/operator',
    body: () => ({ email: `op-${rnd()}@example.com`, display_name: 'Op' }),
    okStatus: 201,
  });
  signedRouteSecurity('chat', ctx, {
    method: 'POST',
    path: '/relay/mint/visitor-token',
    body: () => ({ visitor_user_id: `v-${rnd()}` }),
    okStatus: 201,
  });
  signedRouteSecurity('chat', ctx, {
    method: 'POST',
    path: '/relay/mint/operator-token',
    body: () => ({ email: 'nobody@example.com' }),
    okStatus: 404,
  });
  signedRouteSecurity('chat', ctx, {
    method: 'POST',
    path: '/relay/deprovision/operator',
    body: () => ({ email: 'nobody@example.com' }),
    okStatus: 404,
  });
  signedRouteSecurity('chat', ctx, {
    method: 'POST',
    path: '/relay/create/conversation',
    body: () => ({ session_id: 'vs_unknown' }),
    okStatus: 404,
  });
  signedRouteSecurity('chat', ctx, {
    method: 'POST',
    path: '/relay/send/chat-message',
    body: () => ({ conversation_id: 'cnv_unknown', sender_type: 'system', text: 'x' }),
    okStatus: 404,
  });
  signedRouteSecurity('chat', ctx, {
    method: 'POST',
    path: '/relay/escalate/conversation',
    body: () => ({ conversation_id: 'cnv_unknown' }),
    okStatus: 404,
  });
  signedRouteSecurity('chat', ctx, { method: 'GET', path: '/relay/fetch/conversation?conversation_id=cnv_unknown', okStatus: 404 });
  signedRouteSecurity('chat', ctx, { method: 'GET', path: '/relay/fetch/ticket?ticket_id=tkt_unknown', okStatus: 404 });

  describe('abuse limits', () => {
    let a: TenantCreds;
    let b: TenantCreds;
    before(async () => {
      a = await provision(relay.baseUrl, { allowed_origins: [ORIGIN] });
      b = await provision(relay.baseUrl, { allowed_origins: [ORIGIN] });
    });
    const ws = (token: string, o: { autoPong?: boolean } = {}) => {
      const c = connect(wsUrl(limited.url, '/api/v1/ws/widget', { token }), { origin: ORIGIN, ...o });
      clients.push(c);
      return c;
    };

    it('visitor sessions per IP: the 4th in an hour gets 429 with Retry-After; another tenant is not affected', async () => {
      for (let i = 0; i < 3; i++) assert.equal((await createSession(limited.url, a, ORIGIN)).status, 201);
      const r = await fetch(`${limited.url}/api/v1/create/visitor-session`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: ORIGIN },
        body: JSON.stringify({ tenant_id: a.tenantId, widget_public_key: a.widgetKey, origin: ORIGIN }),
      });
      assert.equal(r.status, 429);
      assert.ok(Number(r.headers.get('retry-after')) >= 1);
      assert.equal((await createSession(limited.url, b, ORIGIN)).status, 201);
    });

    it('messages per session: over the limit the socket is closed with 4429', async () => {
      const s = await createSession(relay.baseUrl, b, ORIGIN, { mode: 'human' });
      const v = ws(s.token);
      await v.next((f) => f.type === 'welcome');
      for (let i = 0; i < 6; i++) v.send({ type: 'message', text: `m${i}` });
      assert.equal((await v.closed).code, 4429);
      assert.equal(v.frames.filter((f) => f.type === 'ack').length, 5);
    });

    it('connections per tenant: the third socket of one tenant gets 4429, another tenant still connects', async () => {
      const t = await provision(relay.baseUrl, { allowed_origins: [ORIGIN] });
      const [s1, s2, s3] = await Promise.all([1, 2, 3].map(() => createSession(relay.baseUrl, t, ORIGIN)));
      const c1 = ws(s1!.token);
      const c2 = ws(s2!.token);
      await Promise.all([c1.next((f) => f.type === 'welcome'), c2.next((f) => f.type === 'welcome')]);
      const c3 = ws(s3!.token);
      assert.equal((await c3.closed).code, 4429);
      const other = await createSession(relay.baseUrl, a, ORIGIN);
      const ok = ws(other.token);
      await ok.next((f) => f.type === 'welcome');
      await Promise.all([c1.close(), c2.close(), ok.close()]);
    });

    it('an idle socket that answers no ping is closed with 4408', async () => {
      const s = await createSession(relay.baseUrl, b, ORIGIN);
      const v = ws(s.token, { autoPong: false });
      await v.next((f) => f.type === 'welcome');
      const started = Date.now();
      assert.equal((await v.closed).code, 4408);
      assert.ok(Date.now() - started < 3000);
    });
  });
});
