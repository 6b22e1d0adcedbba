/**
 * The console manages a tenant's operators (issue 20, High 3): list, create, edit, disable and enable
 * again, against the live relay. Disabling, or changing role or routing keys, revokes the operator's
 * tokens at once (the backend's own token answers 401, mint 410); a member cannot change operators;
 * another workspace's tenant or operator answers 404. Every change is in the audit log.
 */
import assert from 'node:assert/strict';
import { asOperator, provisionOperator } from '../support/chat-client.js';
import { signed } from '../support/client.js';
import { inWs, joinByInvitation, newEmail, signUp, startConsoleWorld, type ConsoleWorld, type Signed } from './support.js';

describe('console: operators of a tenant', function () {
  this.timeout(60_000);
  let w: ConsoleWorld;
  before(async () => {
    w = await startConsoleWorld('console_operators');
  });
  after(async () => {
    await w?.stop();
  });

  const get = (s: Signed, path: string, extra = '') => w.api('GET', inWs(path, s.workspaceId, extra), { token: s.token });
  const post = (s: Signed, path: string, body: unknown = {}, extra = '') =>
    w.api('POST', inWs(path, s.workspaceId, extra), { token: s.token, body });
  const newTenant = async (s: Signed) => {
    const r = await post(s, '/provision/tenant', { tenant_name: 'Shop' });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return {
      tenantId: r.body.data.tenant_id as string,
      secret: r.body.data.tenant_secret as string,
      widgetKey: r.body.data.widget_public_key as string,
    };
  };

  it('create, list, edit, disable and enable again; each change revokes the tokens it must', async () => {
    const owner = await signUp(w);
    const t = await newTenant(owner);
    const tq = `&tenant_id=${t.tenantId}`;
    const mail = newEmail('op');

    const created = await post(owner, '/provision/operator', { email: mail, display_name: 'Ana', routing_keys: ['billing'] }, tq);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.data.operator_id as string;
    const list = await get(owner, '/fetch/operators', tq);
    assert.deepEqual(
      list.body.data.operators.map((o: any) => [o.email, o.display_name, o.role, o.routing_keys, o.status]),
      [[mail, 'Ana', 'agent', ['billing'], 'active']],
    );

    // The backend mints a token for the console's operator; a new name alone keeps it working.
    const token = (await signed(w.relay.baseUrl, t, 'POST', '/relay/mint/operator-token', { operator_id: id })).body.data
      .operator_token as string;
    const queue = (tok: string) => asOperator(w.relay.baseUrl, tok, 'GET', '/operator/fetch/queue');
    assert.equal((await queue(token)).status, 200);
    const renamed = await post(owner, '/update/operator', { operator_id: id, display_name: 'Ana B.' }, tq);
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    assert.equal((await queue(token)).status, 200);
    // A role change revokes it.
    const promoted = await post(owner, '/update/operator', { operator_id: id, role: 'admin' }, tq);
    assert.equal(promoted.body.data.role, 'admin');
    assert.equal((await queue(token)).status, 401);

    const token2 = (await signed(w.relay.baseUrl, t, 'POST', '/relay/mint/operator-token', { operator_id: id })).body.data
      .operator_token as string;
    const disabled = await post(owner, '/deprovision/operator', { operator_id: id }, tq);
    assert.equal(disabled.status, 200, JSON.stringify(disabled.body));
    assert.equal(disabled.body.data.status, 'disabled');
    assert.equal((await queue(token2)).status, 401);
    assert.equal((await signed(w.relay.baseUrl, t, 'POST', '/relay/mint/operator-token', { operator_id: id })).status, 410);

    const enabled = await post(owner, '/provision/operator', { email: mail, display_name: 'Ana B.', role: 'admin' }, tq);
    assert.equal(enabled.status, 200, JSON.stringify(enabled.body));
    assert.equal(enabled.body.data.status, 'active');
    assert.equal((await signed(w.relay.baseUrl, t, 'POST', '/relay/mint/operator-token', { operator_id: id })).status, 201);

    const log = await get(owner, '/fetch/audit-log');
    const actions = log.body.data.entries.map((e: any) => e.action);
    for (const a of ['operator.created', 'operator.updated', 'operator.disabled', 'operator.provisioned'])
      assert.ok(actions.includes(a), `${a} in ${actions}`);
  });

  it('a member cannot change operators; another workspace gets 404 for the tenant and the operator', async () => {
    const owner = await signUp(w);
    const t = await newTenant(owner);
    const op = await provisionOperator(w.relay.baseUrl, t, newEmail('op'));
    const tq = `&tenant_id=${t.tenantId}`;
    const member = await joinByInvitation(w, owner, 'member');
    assert.equal((await post(member, '/deprovision/operator', { operator_id: op.id }, tq)).status, 403);
    assert.equal((await get(member, '/fetch/operators', tq)).status, 200);

    const stranger = await signUp(w);
    const own = await newTenant(stranger);
    assert.equal((await post(stranger, '/deprovision/operator', { operator_id: op.id }, tq)).status, 404);
    const crossed = await post(stranger, '/deprovision/operator', { operator_id: op.id }, `&tenant_id=${own.tenantId}`);
    assert.equal(crossed.status, 404, JSON.stringify(crossed.body));
    assert.equal((await asOperator(w.relay.baseUrl, op.token, 'GET', '/operator/fetch/queue')).status, 200);
  });
});
