/**
 * Issue 20, "tokens in URLs": one-time socket tickets (api/chat/socket-tickets.ts). A ticket opens
 * its own socket once, only within its lifetime and from the Origin it was asked from; `?token=`
 * stays accepted, and an expired token is refused there as before. The tickets are recorded as
 * secrets by the log audit (test/support/log-audit.ts: response fields named *ticket), so a ticket in
 * any log line fails the run.
 */
import assert from 'node:assert/strict';
import { mintOperatorToken } from '../../api/principals/operator.js';
import { provision, type TenantCreds } from '../support/client.js';
import { createSession, provisionOperator, socketPool, wsUrl } from '../support/chat-client.js';
import { sleep, spawnApi, startRelay, type Child, type Relay } from '../support/harness.js';

const ORIGIN = 'https://shop.example.com';
const OTHER = 'https://other.example.com';
const TTL_S = 2;

describe('chat sockets: one-time tickets instead of tokens in URLs', function () {
  this.timeout(120_000);
  let relay: Relay;
  let api: Child;
  let creds: TenantCreds;
  const pool = socketPool(ORIGIN);

  before(async () => {
    relay = await startRelay('ws_tickets');
    api = await spawnApi({ ...relay.env, CHAT_WS_TICKET_TTL_SECONDS: String(TTL_S) });
    creds = await provision(relay.baseUrl, { allowed_origins: [ORIGIN, OTHER] });
  });
  after(async () => {
    await pool.closeAll();
    await api?.kill();
    await relay?.stop();
  });

  async function ticket(path: string, token: string, origin?: string): Promise<string> {
    const r = await fetch(`${api.url}/api/v1${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, ...(origin ? { Origin: origin } : {}) },
    });
    const body = (await r.json()) as any;
    assert.equal(r.status, 201, `${path}: ${r.status} ${JSON.stringify(body)}`);
    assert.match(body.data.ticket, /^wst_/);
    assert.ok(!body.data.ticket.includes(token.slice(0, 20)), 'opaque: the ticket does not carry the token');
    return body.data.ticket as string;
  }
  const widget = (t: string, origin = ORIGIN) => pool.open(wsUrl(api.url, '/api/v1/ws/widget', { ticket: t }), { origin });
  const inbox = (t: string) => pool.open(wsUrl(api.url, '/api/v1/ws/operator', { ticket: t }));

  it('a visitor ticket opens the widget socket once; a second use gets 4401', async () => {
    const s = await createSession(api.url, creds, ORIGIN);
    const t = await ticket('/create/socket-ticket', s.token, ORIGIN);
    const first = widget(t);
    const welcome = await first.next((f) => f.type === 'welcome');
    assert.equal(welcome.session_id, s.sessionId);
    const again = widget(t);
    assert.equal((await again.closed).code, 4401, 'a ticket is single use');
  });

  it('a ticket is bound to the Origin it was asked from (4403 from another), and to its socket (4401 on the other)', async () => {
    const s = await createSession(api.url, creds, ORIGIN);
    assert.equal((await widget(await ticket('/create/socket-ticket', s.token, ORIGIN), OTHER).closed).code, 4403);
    assert.equal((await inbox(await ticket('/create/socket-ticket', s.token, ORIGIN)).closed).code, 4401);
  });

  it('an operator ticket opens the operator socket; an expired ticket gets 4401', async () => {
    const op = await provisionOperator(relay.baseUrl, creds, 'tickets-op@example.com');
    const c = inbox(await ticket('/operator/create/socket-ticket', op.token));
    const welcome = await c.next((f) => f.type === 'welcome');
    assert.equal(welcome.operator.id, op.id);
    const late = await ticket('/operator/create/socket-ticket', op.token);
    await sleep(TTL_S * 1000 + 500); // past the ticket's lifetime (Redis expires the key)
    assert.equal((await inbox(late).closed).code, 4401, 'an expired ticket is refused');
  });

  it('?token= stays accepted, and an expired token is refused there (4401)', async () => {
    const op = await provisionOperator(relay.baseUrl, creds, 'token-op@example.com');
    await pool.operatorWs(api.url, op.token).next((f) => f.type === 'welcome');
    const expired = mintOperatorToken(relay.config, op.id, { [creds.tenantId]: 'agent' }, -5).token;
    assert.equal((await pool.operatorWs(api.url, expired).closed).code, 4401);
  });

  it('the ticket routes refuse a missing token (401) and answer a browser preflight (CORS)', async () => {
    for (const path of ['/create/socket-ticket', '/operator/create/socket-ticket']) {
      const r = await fetch(`${api.url}/api/v1${path}`, { method: 'POST' });
      assert.equal(r.status, 401, path);
      const pre = await fetch(`${api.url}/api/v1${path}`, {
        method: 'OPTIONS',
        headers: { Origin: ORIGIN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization' },
      });
      assert.equal(pre.status, 204, `${path} preflight`);
    }
  });
});
