/**
 * Operator access can be revoked (issue 20, High 3): `deprovision/operator`, the per-operator token
 * version checked on every REST call and socket frame (from Redis), the role read at check time, and
 * operator sockets closed with 4401 within a second of a deprovisioning, a role or routing-key change,
 * or the token's expiry — on this process and on a second API process (the change crosses Redis).
 * Also: widget-config no longer scans the operators on each call (issue 20, Low).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import mongoose from 'mongoose';
import { mintOperatorToken } from '../../api/principals/operator.js';
import { asOperator, provisionOperator, socketPool } from '../support/chat-client.js';
import { provision, signed, type TenantCreds } from '../support/client.js';
import { spawnApi, startRelay, type Child, type Relay } from '../support/harness.js';

const ORIGIN = 'https://shop.example.com';
const email = () => `op-${randomBytes(5).toString('hex')}@example.com`;

describe('operator access can be revoked', function () {
  this.timeout(90_000);
  let relay: Relay;
  // Sockets live on separate API processes (the in-process relay serves REST only): two of them, so
  // a change made through one process must reach the sockets of the other through Redis.
  let api1: Child;
  let api2: Child;
  let a: TenantCreds;
  let b: TenantCreds;
  const pool = socketPool(ORIGIN);

  before(async () => {
    relay = await startRelay('operator_access');
    api1 = await spawnApi(relay.env);
    api2 = await spawnApi(relay.env);
    a = await provision(relay.baseUrl, { rate_limit_per_min: 10_000, allowed_origins: [ORIGIN] });
    b = await provision(relay.baseUrl, { rate_limit_per_min: 10_000, allowed_origins: [ORIGIN] });
  });
  after(async () => {
    await pool.closeAll();
    await Promise.all([api1?.kill(), api2?.kill()]);
    await relay?.stop();
  });

  const deprovision = (creds: TenantCreds, body: Record<string, unknown>) =>
    signed(relay.baseUrl, creds, 'POST', '/relay/deprovision/operator', body);
  const queue = (token: string) => asOperator(relay.baseUrl, token, 'GET', '/operator/fetch/queue');

  it('deprovision: 200 and idempotent; the token is refused at once; mint answers 410; another tenant gets 404', async () => {
    const mail = email();
    const op = await provisionOperator(relay.baseUrl, a, mail);
    assert.equal((await queue(op.token)).status, 200);

    // Another tenant's operator, by id or by email: 404 like a missing one, and nothing changes.
    for (const body of [{ operator_id: op.id }, { email: mail }]) {
      const other = await deprovision(b, body);
      assert.equal(other.status, 404, JSON.stringify(other.body));
    }
    assert.equal((await queue(op.token)).status, 200);

    const first = await deprovision(a, { operator_id: op.id });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.data.status, 'disabled');
    const again = await deprovision(a, { email: mail });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.data.operator_id, op.id);

    const refused = await queue(op.token);
    assert.equal(refused.status, 401, JSON.stringify(refused.body));
    const onApi2 = await asOperator(api2.url, op.token, 'GET', '/operator/fetch/queue');
    assert.equal(onApi2.status, 401, JSON.stringify(onApi2.body));

    const mint = await signed(relay.baseUrl, a, 'POST', '/relay/mint/operator-token', { operator_id: op.id });
    assert.equal(mint.status, 410, JSON.stringify(mint.body));

    // Provisioning again enables it: new tokens work, the old one stays revoked.
    const back = await signed(relay.baseUrl, a, 'POST', '/relay/provision/operator', { email: mail, display_name: 'Back' });
    assert.equal(back.status, 200, JSON.stringify(back.body));
    assert.equal(back.body.data.status, 'active');
    const fresh = await signed(relay.baseUrl, a, 'POST', '/relay/mint/operator-token', { email: mail });
    assert.equal(fresh.status, 201, JSON.stringify(fresh.body));
    assert.equal((await queue(fresh.body.data.operator_token)).status, 200);
    assert.equal((await queue(op.token)).status, 401);
  });

  it('the role comes from the relay at check time: a role change revokes the tokens minted before it', async () => {
    const mail = email();
    const p = await signed(relay.baseUrl, a, 'POST', '/relay/provision/operator', { email: mail, display_name: 'Adm', role: 'admin' });
    const adminToken = (await signed(relay.baseUrl, a, 'POST', '/relay/mint/operator-token', { email: mail })).body.data.operator_token;
    assert.equal((await queue(adminToken)).status, 200);
    // Same settings again: no change of access, the token keeps working.
    await signed(relay.baseUrl, a, 'POST', '/relay/provision/operator', { email: mail, display_name: 'Adm 2', role: 'admin' });
    assert.equal((await queue(adminToken)).status, 200);
    // Demoted: the admin token is refused (it no longer speaks for the operator's role).
    await signed(relay.baseUrl, a, 'POST', '/relay/provision/operator', { email: mail, display_name: 'Adm', role: 'agent' });
    const demoted = await queue(adminToken);
    assert.equal(demoted.status, 401, JSON.stringify(demoted.body));
    // A token claiming admin for an operator that is an agent now: the role is the record's.
    const claimsAdmin = mintOperatorToken(relay.config, p.body.data.operator_id, { [a.tenantId]: 'admin' }, 600, 1);
    const sock = pool.operatorWs(api1.url, claimsAdmin.token);
    const welcome = await sock.next((f) => f.type === 'welcome');
    assert.equal(welcome.operator.role, 'agent');
  });

  async function closesWithin(change: () => Promise<unknown>, token: string, base: string) {
    const sock = pool.operatorWs(base, token);
    await sock.next((f) => f.type === 'welcome');
    // "Within a second" of the change taking effect (its answer), plus what the change's own request
    // took: on a loaded machine both wait for the same processes.
    const t0 = Date.now();
    await change();
    const answered = Date.now();
    const closed = await Promise.race([sock.closed, new Promise<null>((r) => setTimeout(() => r(null), 5000).unref())]);
    assert.ok(closed, 'the socket is still open 5 s after the change');
    const ms = Date.now() - answered;
    assert.equal(closed.code, 4401, JSON.stringify(closed));
    assert.ok(ms < 1000 + (answered - t0), `closed ${ms} ms after the change was answered (the change took ${answered - t0} ms)`);
  }

  it('operator sockets close with 4401 within a second of deprovisioning, on this process and another', async () => {
    const op = await provisionOperator(relay.baseUrl, a, email());
    const here = pool.operatorWs(api1.url, op.token);
    await here.next((f) => f.type === 'welcome');
    await closesWithin(() => deprovision(a, { operator_id: op.id }), op.token, api2.url);
    const closed = await here.closed;
    assert.equal(closed.code, 4401);
    // And the old token cannot open a new one.
    const retry = pool.operatorWs(api2.url, op.token);
    assert.equal((await retry.closed).code, 4401);
  });

  it('operator sockets close with 4401 within a second of a routing-key change or a role change', async () => {
    const mail = email();
    const op = await provisionOperator(relay.baseUrl, a, mail, ['billing']);
    await closesWithin(
      () => signed(relay.baseUrl, a, 'POST', '/relay/provision/operator', { email: mail, display_name: 'x', routing_keys: ['sales'] }),
      op.token,
      api2.url,
    );
    const t2 = (await signed(relay.baseUrl, a, 'POST', '/relay/mint/operator-token', { email: mail })).body.data.operator_token;
    await closesWithin(
      () =>
        signed(relay.baseUrl, a, 'POST', '/relay/provision/operator', {
          email: mail,
          display_name: 'x',
          routing_keys: ['sales'],
          role: 'admin',
        }),
      t2,
      api1.url,
    );
  });

  it('an operator socket closes with 4401 within a second of its token expiring', async () => {
    const op = await provisionOperator(relay.baseUrl, a, email());
    const short = mintOperatorToken(relay.config, op.id, { [a.tenantId]: 'agent' }, 2, 0).token;
    const exp = JSON.parse(Buffer.from(short.split('.')[1]!, 'base64url').toString()).exp * 1000;
    const sock = pool.operatorWs(api2.url, short);
    await sock.next((f) => f.type === 'welcome');
    const closed = await Promise.race([sock.closed, new Promise<null>((r) => setTimeout(() => r(null), 8000).unref())]);
    assert.ok(closed, 'the socket is still open 6 s after its token expired');
    assert.equal(closed.code, 4401);
    assert.ok(Date.now() - exp < 1000, `closed ${Date.now() - exp} ms after expiry`);
  });

  it('widget-config reads the online flag from Redis, not from a scan of the operators on each call', async () => {
    const c = await provision(relay.baseUrl, { rate_limit_per_min: 10_000, allowed_origins: [ORIGIN] });
    const config = () =>
      fetch(`${relay.baseUrl}/api/v1/fetch/widget-config?tenant_id=${c.tenantId}&widget_public_key=${c.widgetKey}`).then(
        async (r) => (await r.json()) as any,
      );
    assert.equal((await config()).data.online, false);
    const op = await provisionOperator(relay.baseUrl, c, email());
    assert.equal((await config()).data.online, true, 'a new operator shows at once');
    let scans = 0;
    const seen = (collection: string) => collection === 'chat_operators' && scans++;
    mongoose.set('debug', seen);
    try {
      for (let i = 0; i < 20; i++) assert.equal((await config()).data.online, true);
    } finally {
      mongoose.set('debug', false);
    }
    assert.ok(scans <= 1, `${scans} operator queries for 20 widget-config calls`);
    await signed(relay.baseUrl, c, 'POST', '/relay/deprovision/operator', { operator_id: op.id });
    assert.equal((await config()).data.online, false, 'a deprovisioned operator goes offline at once');
  });
});
