/**
 * Visitor token refresh rotates, within a bounded grace (issue 20, Medium "Visitor tokens"): the
 * refreshed token is refused afterwards on the refresh route and on the widget socket, a token expired
 * longer than CHAT_VISITOR_REFRESH_GRACE_SECONDS is not refreshed, and a backend-minted token for a
 * session refreshed before still works.
 */
import assert from 'node:assert/strict';
import { mintVisitorToken, widgetKeyHash } from '../../api/principals/visitor.js';
import { createSession, socketPool } from '../support/chat-client.js';
import { provision, signed, type TenantCreds } from '../support/client.js';
import { spawnApi, startRelay, type Child, type Relay } from '../support/harness.js';

const ORIGIN = 'https://shop.example.com';
const GRACE_S = 120;

describe('visitor token refresh rotates, within a bounded grace', function () {
  this.timeout(90_000);
  let relay: Relay;
  let api: Child;
  let creds: TenantCreds;
  const pool = socketPool(ORIGIN);

  before(async () => {
    relay = await startRelay('visitor_refresh', { CHAT_VISITOR_REFRESH_GRACE_SECONDS: String(GRACE_S) });
    api = await spawnApi(relay.env);
    creds = await provision(relay.baseUrl, { rate_limit_per_min: 10_000, allowed_origins: [ORIGIN] });
  });
  after(async () => {
    await pool.closeAll();
    await api?.kill();
    await relay?.stop();
  });

  const refresh = async (token: string) => {
    const r = await fetch(`${relay.baseUrl}/api/v1/refresh/visitor-token`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, Origin: ORIGIN },
    });
    return { status: r.status, body: (await r.json()) as any };
  };
  const expiredToken = (sessionId: string, agoS: number) =>
    mintVisitorToken(relay.config, { tid: creds.tenantId, sid: sessionId, wkh: widgetKeyHash(creds.widgetKey), org: ORIGIN }, -agoS).token;

  it('a refreshed token is refused afterwards, by the refresh route and by the socket; the new one works', async () => {
    const s = await createSession(relay.baseUrl, creds, ORIGIN);
    const first = await refresh(s.token);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const t1 = first.body.data.visitor_token as string;

    const reused = await refresh(s.token);
    assert.equal(reused.status, 401, JSON.stringify(reused.body));
    assert.equal(reused.body.error.code, 'INVALID_TOKEN');
    assert.equal((await pool.visitorWs(api.url, s.token).closed).code, 4401);

    const ok = pool.visitorWs(api.url, t1);
    await ok.next((f) => f.type === 'welcome');
    const second = await refresh(t1);
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.equal(second.body.data.session_id, s.sessionId);
    assert.equal((await refresh(t1)).status, 401);
    assert.equal((await pool.visitorWs(api.url, t1).closed).code, 4401);
  });

  it(`an expired token is refreshed only within CHAT_VISITOR_REFRESH_GRACE_SECONDS (${GRACE_S} s here)`, async () => {
    const recent = await createSession(relay.baseUrl, creds, ORIGIN);
    const inGrace = await refresh(expiredToken(recent.sessionId, GRACE_S / 2));
    assert.equal(inGrace.status, 200, JSON.stringify(inGrace.body));

    const old = await createSession(relay.baseUrl, creds, ORIGIN);
    const tooOld = await refresh(expiredToken(old.sessionId, GRACE_S * 5));
    assert.equal(tooOld.status, 401, JSON.stringify(tooOld.body));
    assert.match(tooOld.body.message, /too long ago/);
  });

  it('a backend-minted token for a session refreshed before carries its current generation', async () => {
    const visitor = `vu-${Date.now()}`;
    const m1 = await signed(relay.baseUrl, creds, 'POST', '/relay/mint/visitor-token', { visitor_user_id: visitor });
    assert.equal(m1.status, 201, JSON.stringify(m1.body));
    const r = await fetch(`${relay.baseUrl}/api/v1/refresh/visitor-token`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${m1.body.data.visitor_token}` },
    });
    assert.equal(r.status, 200);
    const m2 = await signed(relay.baseUrl, creds, 'POST', '/relay/mint/visitor-token', { visitor_user_id: visitor });
    assert.equal(m2.status, 200, JSON.stringify(m2.body));
    const sock = pool.open(`${api.url.replace(/^http/, 'ws')}/api/v1/ws/widget?token=${m2.body.data.visitor_token}`);
    await sock.next((f) => f.type === 'welcome');
  });
});
