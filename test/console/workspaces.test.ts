/**
 * Workspaces, members, invitations and tenants through the console, against the live relay: roles
 * enforced at mount (member acting as admin 403, only owners touch owners, the last owner stays 409),
 * invitations by email (single use, bound to the address, revocable, expiring), a removed member's
 * token 401, another workspace's tenant 404, the tenant lifecycle scoped to the workspace (the secret
 * shown once works for a signed call; rotation, suspension take effect at once), operators,
 * dead letters replayed, and the audit log of it all.
 */
import assert from 'node:assert/strict';
import { WorkspaceModel } from '../../models/console/workspace.js';
import { Receiver } from '../fakes/receiver.js';
import { provisionOperator } from '../support/chat-client.js';
import { signed } from '../support/client.js';
import { eventually } from '../support/harness.js';
import {
  PASSWORD,
  inWs,
  invite,
  joinByInvitation,
  newEmail,
  signIn,
  signUp,
  startConsoleWorld,
  type ConsoleWorld,
  type Signed,
} from './support.js';

describe('console workspaces, members, invitations and tenants', function () {
  this.timeout(60_000);
  let w: ConsoleWorld;
  let receiver: Receiver;
  before(async () => {
    w = await startConsoleWorld('console_workspaces');
    receiver = await new Receiver().start();
  });
  after(async () => {
    await receiver?.stop();
    await w?.stop();
  });

  const get = (s: Signed, path: string, extra = '') => w.api('GET', inWs(path, s.workspaceId, extra), { token: s.token });
  const post = (s: Signed, path: string, body: unknown = {}, extra = '') =>
    w.api('POST', inWs(path, s.workspaceId, extra), { token: s.token, body });
  const newTenant = async (s: Signed, settings: Record<string, unknown> = {}) => {
    const r = await post(s, '/provision/tenant', { tenant_name: 'Shop', ...settings });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return {
      tenantId: r.body.data.tenant_id as string,
      secret: r.body.data.tenant_secret as string,
      widgetKey: r.body.data.widget_public_key as string,
    };
  };

  it('an invited member joins from the emailed link with the member role, and is refused admin and owner actions (403)', async () => {
    const owner = await signUp(w, { org: 'Team A' });
    const member = await joinByInvitation(w, owner, 'member');
    const me = await w.api('GET', '/fetch/session', { token: member.token });
    assert.deepEqual(
      me.body.data.workspaces.map((x: any) => [x.workspace_id, x.role]),
      [[owner.workspaceId, 'member']],
    );
    // A member reads …
    assert.equal((await get(member, '/fetch/tenants')).status, 200);
    assert.equal((await get(member, '/fetch/members')).body.data.members.length, 2);
    // … and is refused what an admin does, and what an owner does.
    for (const [path, body] of [
      ['/provision/tenant', { tenant_name: 'Nope' }],
      ['/create/invitation', { email: newEmail() }],
      ['/update/member-role', { account_id: owner.accountId, role: 'member' }],
      ['/remove/member', { account_id: owner.accountId }],
      ['/update/workspace', { name: 'Mine now' }],
    ] as const) {
      const r = await post(member, path, body);
      assert.equal(r.status, 403, `${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 'FORBIDDEN');
    }
    assert.equal((await get(member, '/fetch/audit-log')).status, 403);
  });

  it('admins manage members but not owners; only an owner gives the owner role; the last owner cannot leave, be demoted or be removed (409)', async () => {
    const owner = await signUp(w);
    const admin = await joinByInvitation(w, owner, 'admin');
    const member = await joinByInvitation(w, owner, 'member');
    assert.equal((await post(admin, '/update/member-role', { account_id: member.accountId, role: 'admin' })).status, 200);
    assert.equal((await post(admin, '/update/member-role', { account_id: member.accountId, role: 'owner' })).status, 403);
    assert.equal((await post(admin, '/update/member-role', { account_id: owner.accountId, role: 'member' })).status, 403);
    assert.equal((await post(admin, '/remove/member', { account_id: owner.accountId })).status, 403);
    assert.equal((await post(admin, '/create/invitation', { email: newEmail(), role: 'owner' })).status, 403);
    assert.equal((await post(admin, '/update/workspace', { name: 'x' })).status, 403);

    for (const [path, body] of [
      ['/remove/member', { account_id: owner.accountId }],
      ['/update/member-role', { account_id: owner.accountId, role: 'admin' }],
      ['/leave/workspace', {}],
    ] as const) {
      const r = await post(owner, path, body);
      assert.equal(r.status, 409, `${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 'CONFLICT');
    }
    // With a second owner, the first may leave.
    assert.equal((await post(owner, '/update/member-role', { account_id: admin.accountId, role: 'owner' })).status, 200);
    assert.equal((await post(owner, '/leave/workspace')).status, 200);
    assert.equal((await get(owner, '/fetch/workspace')).status, 404, 'no longer a member: the workspace is not found');
  });

  it("a removed member's token is refused at once (401), everywhere", async () => {
    const owner = await signUp(w);
    const member = await joinByInvitation(w, owner, 'member');
    assert.equal((await get(member, '/fetch/tenants')).status, 200);
    const r = await post(owner, '/remove/member', { account_id: member.accountId });
    assert.equal(r.status, 200);
    assert.equal(r.body.data.sessions_ended, 1);
    for (const res of [await get(member, '/fetch/tenants'), await w.api('GET', '/fetch/session', { token: member.token })]) {
      assert.equal(res.status, 401);
      assert.equal(res.body.error.code, 'INVALID_TOKEN');
    }
    // Signing in again shows no workspace.
    const again = await signIn(w, member.email);
    assert.equal(again.workspaceId, '');
  });

  it('invitations: single use, bound to their address, replaced by a new one, revocable, expiring; an existing account accepts while signed in', async () => {
    const owner = await signUp(w);
    const email = newEmail('inv');
    const token = await invite(w, owner, email, 'member');
    const info = await w.api('POST', '/fetch/invitation', { body: { invite_token: token } });
    assert.equal(info.status, 200);
    assert.equal(info.body.data.email, email);
    const wrongAddress = await w.api('POST', '/register', {
      body: { email: newEmail(), password: PASSWORD, display_name: 'X', invite_token: token },
    });
    assert.equal(wrongAddress.status, 403);
    const ok = await w.api('POST', '/register', { body: { email, password: PASSWORD, display_name: 'X', invite_token: token } });
    assert.equal(ok.status, 202);
    const joined = await w.api('POST', '/verify/registration', { body: { email, otp: await w.smtp.code(email, { count: 2 }) } });
    assert.equal(joined.status, 201);
    const reuse = await w.api('POST', '/fetch/invitation', { body: { invite_token: token } });
    assert.equal(reuse.status, 410);

    // An existing account: accept/invitation while signed in; a second invitation replaces the first.
    const existing = await signUp(w);
    const first = await invite(w, owner, existing.email);
    const second = await invite(w, owner, existing.email);
    assert.equal((await w.api('POST', '/accept/invitation', { token: existing.token, body: { invite_token: first } })).status, 410);
    const stranger = await signUp(w);
    assert.equal(
      (await w.api('POST', '/accept/invitation', { token: stranger.token, body: { invite_token: second } })).status,
      403,
      'for another address',
    );
    const acc = await w.api('POST', '/accept/invitation', { token: existing.token, body: { invite_token: second } });
    assert.equal(acc.status, 200);
    assert.equal(acc.body.data.role, 'member');

    // Revoked, then expired.
    const revokedEmail = newEmail('rev');
    const revoked = await invite(w, owner, revokedEmail);
    const list = await get(owner, '/fetch/invitations');
    const id = list.body.data.invitations.find((i: any) => i.email === revokedEmail).invitation_id;
    assert.equal((await post(owner, '/revoke/invitation', { invitation_id: id })).status, 200);
    assert.equal((await w.api('POST', '/fetch/invitation', { body: { invite_token: revoked } })).status, 410);
    const lateEmail = newEmail('late');
    const late = await invite(w, owner, lateEmail);
    await WorkspaceModel.updateOne(
      { _id: owner.workspaceId },
      { $set: { 'invitations.$[i].expires_at': new Date(Date.now() - 1000) } },
      { arrayFilters: [{ 'i.email': lateEmail }] },
    ).catch(async () => {
      // FerretDB v1 has no arrayFilters: rewrite the list.
      const ws = await WorkspaceModel.findById(owner.workspaceId).lean();
      const invitations = (ws?.invitations ?? []).map((i: any) =>
        i.email === lateEmail ? { ...i, expires_at: new Date(Date.now() - 1000) } : i,
      );
      await WorkspaceModel.updateOne({ _id: owner.workspaceId }, { $set: { invitations } });
    });
    const expired = await w.api('POST', '/register', {
      body: { email: lateEmail, password: PASSWORD, display_name: 'L', invite_token: late },
    });
    assert.equal(expired.status, 410);
    assert.equal(expired.body.error.code, 'EXPIRED');
  });

  it("a tenant created in the console: secret shown once and working for a signed call; another workspace's tenant answers 404", async () => {
    const a = await signUp(w, { org: 'A' });
    const b = await signUp(w, { org: 'B' });
    const t = await newTenant(a, { callback_url_base: receiver.url });
    assert.match(t.secret, /^sk_/);
    const fetched = await get(a, '/fetch/tenant', `&tenant_id=${t.tenantId}`);
    assert.equal(fetched.status, 200);
    assert.equal(fetched.body.data.workspace_id, a.workspaceId);
    assert.ok(!JSON.stringify(fetched.body).includes(t.secret), 'never the secret again');
    const list = await get(a, '/fetch/tenants');
    assert.deepEqual(
      list.body.data.tenants.map((x: any) => x.tenant_id),
      [t.tenantId],
    );
    assert.ok(!JSON.stringify(list.body).includes(t.secret));
    const call = await signed(w.relay.baseUrl, t, 'POST', '/relay/send/test-callback', { note: 'from the console' });
    assert.equal(call.status, 202, JSON.stringify(call.body));

    // Workspace B, addressing A's tenant with its own workspace: 404 everywhere, like a tenant that does not exist.
    for (const [m, path, body] of [
      ['GET', '/fetch/tenant', undefined],
      ['POST', '/update/tenant', { tenant_name: 'stolen' }],
      ['POST', '/rotate/tenant-secret', {}],
      ['POST', '/rotate/widget-key', undefined],
      ['POST', '/suspend/tenant', undefined],
      ['GET', '/fetch/operators', undefined],
      ['GET', '/fetch/deliveries', undefined],
      ['GET', '/fetch/dead-letters', undefined],
      ['POST', '/replay/dead-letters', { delivery_id: 'dlv_x' }],
    ] as const) {
      const r = await w.api(m, inWs(path, b.workspaceId, `&tenant_id=${t.tenantId}`), { token: b.token, ...(body ? { body } : {}) });
      assert.equal(r.status, 404, `${m} ${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 'NOT_FOUND');
    }
    // … and naming A's workspace, of which B is no member: 404 too.
    const r = await w.api('GET', inWs('/fetch/tenant', a.workspaceId, `&tenant_id=${t.tenantId}`), { token: b.token });
    assert.equal(r.status, 404);
    assert.equal((await get(a, '/fetch/tenant', `&tenant_id=${t.tenantId}`)).body.data.tenant_name, 'Shop', 'untouched');
  });

  it('tenant lifecycle in the workspace: settings, rotation with grace, widget key, suspension, operators, dead letters replayed; all in the audit log with IP and user agent', async () => {
    const s = await signUp(w);
    const t = await newTenant(s, { callback_url_base: receiver.url });
    const up = await post(
      s,
      '/update/tenant',
      { allowed_origins: ['https://shop.example.com'], branding_primary_color: '#123456', sudo_callback_path: '/hooks/sudo' },
      `&tenant_id=${t.tenantId}`,
    );
    assert.equal(up.status, 200);
    assert.deepEqual(up.body.data.allowed_origins, ['https://shop.example.com']);
    assert.equal(
      (await post(s, '/update/tenant', { rate_limit_per_min: 9999 }, `&tenant_id=${t.tenantId}`)).status,
      422,
      'limits stay with the platform admin',
    );

    const rot = await post(s, '/rotate/tenant-secret', { grace_seconds: 60 }, `&tenant_id=${t.tenantId}`);
    assert.equal(rot.status, 200);
    const fresh = { ...t, secret: rot.body.data.tenant_secret as string };
    assert.equal((await signed(w.relay.baseUrl, fresh, 'POST', '/relay/send/test-callback', { note: 'rotation' })).status, 202);
    assert.equal(
      (await signed(w.relay.baseUrl, t, 'POST', '/relay/send/test-callback', { note: 'rotation' })).status,
      202,
      'the old secret in its grace period',
    );
    const rot2 = await post(s, '/rotate/tenant-secret', {}, `&tenant_id=${t.tenantId}`);
    assert.equal(
      (await signed(w.relay.baseUrl, fresh, 'POST', '/relay/send/test-callback', { note: 'rotation' })).status,
      401,
      'no grace: the old secret stops at once',
    );
    const current = { ...t, secret: rot2.body.data.tenant_secret as string };
    const wk = await post(s, '/rotate/widget-key', undefined, `&tenant_id=${t.tenantId}`);
    assert.notEqual(wk.body.data.widget_public_key, t.widgetKey);

    assert.equal((await post(s, '/suspend/tenant', undefined, `&tenant_id=${t.tenantId}`)).status, 200);
    assert.equal((await signed(w.relay.baseUrl, current, 'POST', '/relay/send/test-callback', {})).status, 403);
    assert.equal((await post(s, '/reactivate/tenant', undefined, `&tenant_id=${t.tenantId}`)).status, 200);
    assert.equal((await signed(w.relay.baseUrl, current, 'POST', '/relay/send/test-callback', {})).status, 202);

    await provisionOperator(w.relay.baseUrl, current, 'agent@example.com', ['store-1', 'store-2']);
    const ops = await get(s, '/fetch/operators', `&tenant_id=${t.tenantId}`);
    assert.deepEqual(
      ops.body.data.operators.map((o: any) => [o.email, o.routing_keys]),
      [['agent@example.com', ['store-1', 'store-2']]],
    );

    // A callback refused for good (400) is a dead letter; the console lists and replays it.
    receiver.always({ status: 400 });
    const sent = await signed(w.relay.baseUrl, current, 'POST', '/relay/send/test-callback', { note: 'to be replayed' });
    const dead = await eventually(async () => {
      const r = await get(s, '/fetch/dead-letters', `&tenant_id=${t.tenantId}`);
      return r.body.data.dead_letters.find((d: any) => d.delivery_id === sent.body.data.delivery_id);
    });
    assert.equal(dead.status, 'dead');
    receiver.always({ status: 200 });
    const replay = await post(s, '/replay/dead-letters', { delivery_id: dead.delivery_id }, `&tenant_id=${t.tenantId}`);
    assert.equal(replay.status, 200);
    await eventually(async () => {
      const r = await get(s, '/fetch/deliveries', `&tenant_id=${t.tenantId}&status=succeeded`);
      return r.body.data.deliveries.some((d: any) => d.delivery_id === dead.delivery_id);
    });

    const log = await w.api('GET', inWs('/fetch/audit-log', s.workspaceId), { token: s.token });
    assert.equal(log.status, 200);
    const actions = log.body.data.entries.map((e: any) => e.action);
    assert.deepEqual(actions.slice(0, 9), [
      'dead_letters.replayed',
      'tenant.reactivated',
      'tenant.suspended',
      'tenant.widget_key_rotated',
      'tenant.secret_rotated',
      'tenant.secret_rotated',
      'tenant.updated',
      'tenant.created',
      'workspace.created',
    ]);
    const e = log.body.data.entries.find((x: any) => x.action === 'tenant.updated');
    assert.equal(e.actor_email, s.email);
    assert.equal(e.target, t.tenantId);
    assert.deepEqual(e.details.fields, ['allowed_origins', 'branding_primary_color', 'sudo_callback_path']);
    assert.match(e.ip, /^(192\.0\.2|198\.51\.100|203\.0\.113)\./, 'the client IP the test sent (newIp), not the proxy hop');
    assert.equal(e.user_agent, 'console-test/1.0');
    assert.ok(!JSON.stringify(log.body).includes(current.secret), 'no secret in the log');
    const page = await w.api('GET', inWs('/fetch/audit-log', s.workspaceId, `&limit=3&before=${log.body.data.entries[2].seq}`), {
      token: s.token,
    });
    assert.deepEqual(
      page.body.data.entries.map((x: any) => x.seq),
      [log.body.data.entries[3].seq, log.body.data.entries[4].seq, log.body.data.entries[5].seq],
    );
  });
});
