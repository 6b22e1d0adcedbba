/**
 * The relay's sudo, approver-group, delegation and QR-login routes through the SDK, with the
 * reference device answering (a sudo request signed over what it shows). The quorum flow:
 * PendingOpStore keeps the mutation, the ApprovalEvent that reaches the quorum replays it once, in
 * the Koa app and in the Express app.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ActionType, ConflictError, GoneError, PermissionDeniedError, RelayClient, SudoEventType } from '../src/index.js';
import { apps } from './support/apps.js';
import { eventually, pairUser, relay, type Relay, type Tenant } from './support/relay.js';

const link = (paired: any): string => paired.pairing.relay_user_linked_id;

describe('the relay’s sudo routes through RelayClient', function () {
  this.timeout(60_000);
  let r: Relay;
  let tenant: Tenant;
  let client: RelayClient;
  const clientFor = (t: Tenant) => new RelayClient({ baseUrl: r.url, tenantId: t.tenantId, tenantSecret: t.tenantSecret });

  before(async function () {
    this.timeout(120_000);
    r = await relay();
    tenant = await r.provision('ts-sudo');
    client = clientFor(tenant);
  });

  const dispatch = (
    linkId: string,
    o: { instructionId?: string; idempotencyKey?: string; description?: string; ttlSeconds?: number } = {},
  ) =>
    client.sudoDispatch({
      eventType: SudoEventType.SUDO_ACTION,
      actionType: ActionType.UPDATE,
      instructionId: o.instructionId ?? `ins-${randomBytes(6).toString('hex')}`,
      expectedAction: 'rotate_keys',
      title: 'Rotate the API keys',
      relayUserLinkedIdList: [linkId],
      dataItems: [{ key: 'env', title: 'Environment', value: 'production', dataType: 'TEXT' }],
      ...(o.idempotencyKey ? { idempotencyKey: o.idempotencyKey } : {}),
      ...(o.description ? { description: o.description } : {}),
      ...(o.ttlSeconds ? { ttlSeconds: o.ttlSeconds } : {}),
    });

  it('dispatches, fetches and cancels a sudo event', async () => {
    const { paired } = await pairUser(r, tenant);
    const ev = await dispatch(link(paired), { ttlSeconds: 120 });
    assert.match(ev.eventId, /^sud_/);
    assert.equal(ev.status, 'pending');
    assert.equal(ev.lastResponse.statusCode, 201);
    const fetched = await client.sudoFetchEvent({ eventId: ev.eventId });
    assert.equal(fetched.status, 'pending');
    assert.equal(fetched.expectedAction, 'rotate_keys');
    assert.equal((await client.sudoCancel({ eventId: ev.eventId })).status, 'cancelled');
    await assert.rejects(client.sudoCancel({ eventId: ev.eventId }), ConflictError);
  });

  it('a dispatch is idempotent on its key (and retried, being idempotent)', async () => {
    const { paired } = await pairUser(r, tenant);
    const key = `idem-${randomBytes(6).toString('hex')}`;
    const iid = `ins-${randomBytes(6).toString('hex')}`;
    const first = await dispatch(link(paired), { idempotencyKey: key, instructionId: iid });
    const again = await dispatch(link(paired), { idempotencyKey: key, instructionId: iid });
    assert.equal(again.lastResponse.statusCode, 200);
    assert.equal(again.eventId, first.eventId);
    const e = await dispatch(link(paired), { idempotencyKey: key, instructionId: iid, description: 'another body' }).catch(
      (x: unknown) => x,
    );
    assert.ok(e instanceof ConflictError);
    assert.equal(e.code, 'CONFLICT');
  });

  it('creates, updates, lists and deletes approver groups', async () => {
    const links = [link((await pairUser(r, tenant)).paired), link((await pairUser(r, tenant)).paired)];
    const g = await client.createGroup({ name: 'Finance', memberRelayUserLinkedIds: links, threshold: 2 });
    assert.match(g.groupId, /^grp_/);
    assert.equal(g.lastResponse.statusCode, 201);
    assert.deepEqual(
      [g.name, g.threshold, g.denyOnFirstDenial, [...g.memberRelayUserLinkedIds].sort()],
      ['Finance', 2, false, [...links].sort()],
    );
    const updated = await client.updateGroup({ groupId: g.groupId, threshold: 1, denyOnFirstDenial: true });
    assert.deepEqual([updated.threshold, updated.denyOnFirstDenial], [1, true]);
    assert.ok((await client.fetchGroups()).groups.some((x) => x.groupId === g.groupId && x.threshold === 1));
    assert.deepEqual(await client.deleteGroup({ groupId: g.groupId }).then(({ groupId, deleted }) => ({ groupId, deleted })), {
      groupId: g.groupId,
      deleted: true,
    });
    assert.ok((await client.fetchGroups()).groups.every((x) => x.groupId !== g.groupId));
  });

  it('delegation grants: each side sees its half', async () => {
    const grantor = await r.provision('ts-grantor');
    const { paired } = await pairUser(r, grantor);
    const b = clientFor(grantor);
    const grant = await b.createDelegationGrant({ granteeTenantId: tenant.tenantId, relayUserLinkedIdList: [link(paired)] });
    assert.match(grant.grantId, /^dgr_/);
    assert.equal(grant.status, 'active');
    // The grantee sees it among the grants it received, the grantor among those it gave; neither in the other half.
    const received = await client.fetchDelegationGrants();
    assert.ok(received.received.some((x) => x.grantId === grant.grantId && x.grantorTenantId === grantor.tenantId));
    assert.ok(received.given.every((x) => x.grantId !== grant.grantId));
    const given = await b.fetchDelegationGrants();
    assert.ok(given.given.some((x) => x.grantId === grant.grantId && x.relayUserLinkedIds.includes(link(paired))));
    assert.ok(given.received.every((x) => x.grantId !== grant.grantId));
    const revoked = await b.revokeDelegationGrant({ grantId: grant.grantId });
    assert.equal(revoked.status, 'revoked');
    assert.ok(revoked.revokedAt);
  });

  it('QR login: initiate, poll pending, the device approves, approved once, then gone', async () => {
    const t = await r.provision('ts-qr', { qr_login_allowed_origins: ['https://app.example.com'] });
    const { user, device, paired } = await pairUser(r, t);
    const c = clientFor(t);
    const e = await c.qrLoginInitiate({ browserOrigin: 'https://evil.example.net' }).catch((x: unknown) => x);
    assert.ok(e instanceof PermissionDeniedError);
    assert.equal(e.code, 'ORIGIN_NOT_ALLOWED');
    const s = await c.qrLoginInitiate({ browserOrigin: 'https://app.example.com' });
    assert.equal((await c.qrLoginPoll({ sessionId: s.sessionId, pollToken: s.pollToken })).status, 'pending');
    await device.scan(s.qrCodeStr, true);
    const got = await eventually(async () => {
      const p = await c.qrLoginPoll({ sessionId: s.sessionId, pollToken: s.pollToken });
      return p.status === 'approved' && p;
    }, 'approved');
    assert.equal(got.userSocketHash, user);
    assert.equal(got.relayUserLinkedId, link(paired));
    await assert.rejects(c.qrLoginPoll({ sessionId: s.sessionId, pollToken: s.pollToken }), GoneError);
  });
});

for (const kind of ['koa', 'express'] as const) {
  describe(`a quorum replayed server-side in ${kind === 'koa' ? 'the Koa' : 'the Express'} app`, function () {
    this.timeout(60_000);

    it('replays the stored mutation once, when the second of two approvers approves', async () => {
      const r = await relay();
      const app = (await apps(r))[kind];
      const a = await pairUser(r, app.tenant);
      const b = await pairUser(r, app.tenant);
      const { groupId } = await app.bloonio.client.createGroup({
        name: 'Owners',
        memberRelayUserLinkedIds: [link(a.paired), link(b.paired)],
        threshold: 2,
      });
      const project = `prj_${randomBytes(4).toString('hex')}`;
      const res = await app.post('/projects/delete', { project_id: project, group_id: groupId }, { 'X-Test-User': 'usr_requester' });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      assert.equal(res.body.status, 'pending_approval');
      const iid: string = res.body.instruction_id;
      const first = await a.device.approve((await a.device.requestFor(iid)).request_id);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal((await app.bloonio.pendingOp(iid))?.status, 'pending'); // one of two: nothing replayed
      assert.equal(app.replayed.filter((x) => x.project_id === project).length, 0);
      const second = await b.device.approve((await b.device.requestFor(iid)).request_id);
      assert.equal(second.status, 200, JSON.stringify(second.body));
      const done = await eventually(
        async () => {
          const op = await app.bloonio.pendingOp(iid);
          return op?.status === 'done' && op;
        },
        'replayed',
        20_000,
        300,
      );
      assert.deepEqual(done.result, { deleted: project });
      const replays = app.replayed.filter((x) => x.project_id === project);
      assert.equal(replays.length, 1);
      assert.equal(replays[0]?.approvals, 2);
      // Two people approved, each signing over what their device showed.
      const ev = await app.bloonio.client.sudoFetchEvent({ instructionId: iid });
      assert.deepEqual([ev.status, ev.eventType, ev.threshold, ev.actionType], ['approved', 'sudo_group_action', 2, 'deletion']);
      assert.deepEqual(ev.approvals.map((x) => x.who.relayUserLinkedId).sort(), [link(a.paired), link(b.paired)].sort());
      assert.ok(ev.approvals.every((x) => x.decision === 'approve' && /^[0-9a-f]{64}$/.test(x.displayHash ?? '')));
    });
  });
}
