/**
 * sudoRequired in a Koa app and an Express app, against the live relay: 403 with an instruction id →
 * the reference device approves → the relay's ApprovalEvent reaches the app → the re-call with
 * X-Sudo-Instruction-Key runs the handler once. Denied, expired, reused and mismatched keys are
 * refused; forged ApprovalEvents are refused by the callback path. The second half signs
 * ApprovalEvents itself, exactly as the relay does (with nobody answering on the device, so the
 * relay sends none of its own), to check each case of the adapters' half.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { fingerprint } from '../src/index.js';
import { newInstructionId } from '../src/sudo/core.js';
import { apps, type TestApp } from './support/apps.js';
import { approvalEnvelope, signed } from './support/callbacks.js';
import { eventually, pairUser, relay, socketHash, type Relay } from './support/relay.js';

const KEY = 'X-Sudo-Instruction-Key';
const BODY = { amount: 120, recipient: 'Bob Martin' };
const FIELDS = [
  { key: 'amount', value: '120' },
  { key: 'to', value: 'Bob Martin' },
];

for (const kind of ['koa', 'express'] as const) {
  describe(`sudoRequired in ${kind === 'koa' ? 'a Koa' : 'an Express'} app`, function () {
    this.timeout(60_000);
    let r: Relay;
    let app: TestApp;

    before(async function () {
      this.timeout(120_000);
      r = await relay();
      app = (await apps(r))[kind];
    });

    const call = (user: string | null, key?: string, body: unknown = BODY, path = '/transfer/execute') =>
      app.post(path, body, { ...(user ? { 'X-Test-User': user } : {}), ...(key ? { [KEY]: key } : {}) });
    const status = async (iid: string) => (await app.bloonio.store.get(iid))?.status;

    async function firstCall(user: string, path = '/transfer/execute', body: unknown = BODY): Promise<string> {
      const res = await call(user, undefined, body, path);
      assert.equal(res.status, 403, JSON.stringify(res.body));
      assert.deepEqual(Object.keys(res.body).sort(), ['error', 'instruction_id']);
      assert.equal(res.body.error, 'SUDO_INSTRUCTION_KEY_REQUIRED');
      assert.match(res.body.instruction_id, /^sudo_[0-9a-f]{32}$/);
      return res.body.instruction_id;
    }

    // ----- with the relay's ApprovalEvent -----

    it('the seed example approved on the device runs once', async () => {
      const { user, device } = await pairUser(r, app.tenant);
      const before = app.executed.length;
      const iid = await firstCall(user);
      const req = await device.requestFor(iid);
      assert.equal(req.content.display.title, 'Confirm the transfer');
      const pending = await call(user, iid);
      assert.equal(pending.status, 403);
      assert.equal(pending.body.error, 'SUDO_INSTRUCTION_PENDING');
      assert.equal((await device.approve(req.request_id)).status, 200);
      await eventually(async () => (await status(iid)) === 'validated', 'the ApprovalEvent reached the app', 20_000, 200);
      // The relay recorded the ApprovalEvent as delivered and applied.
      const delivered = await eventually(
        async () =>
          (await r.deliveries(app.tenant.tenantId)).find((d) => d.event_type === 'sudo.approval_event' && d.status === 'succeeded'),
        'the ApprovalEvent delivery',
      );
      assert.match(String(delivered.attempts.at(-1).response_body), /"applied":true/);
      const ok = await call(user, iid);
      assert.equal(ok.status, 200);
      assert.equal(ok.body.executed, true);
      const again = await call(user, iid);
      assert.equal(again.status, 403);
      assert.equal(again.body.reason, 'reused');
      assert.deepEqual(app.executed.slice(before), [{ user, ...BODY }]);
    });

    it('a denied instruction is refused', async () => {
      const { user, device } = await pairUser(r, app.tenant);
      const before = app.executed.length;
      const iid = await firstCall(user);
      await device.deny((await device.requestFor(iid)).request_id);
      await eventually(async () => (await status(iid)) === 'denied', 'the denied ApprovalEvent', 20_000, 200);
      const res = await call(user, iid);
      assert.equal(res.status, 403);
      assert.deepEqual([res.body.error, res.body.reason], ['SUDO_INSTRUCTION_KEY_INVALID', 'denied']);
      assert.equal(app.executed.length, before);
    });

    it('an expired instruction is refused, and a late approval too', async () => {
      const { user, device } = await pairUser(r, app.tenant);
      const iid = await firstCall(user, '/transfer/quick', { amount: 5 }); // ttlSeconds: 10
      const req = await device.requestFor(iid);
      await eventually(async () => (await status(iid)) === 'expired', 'the expired ApprovalEvent', 30_000, 500);
      assert.equal((await call(user, iid, { amount: 5 }, '/transfer/quick')).body.reason, 'expired');
      const late = await device.approve(req.request_id);
      assert.ok(late.status >= 400, 'the relay refuses a late answer');
      assert.equal((await call(user, iid, { amount: 5 }, '/transfer/quick')).body.reason, 'expired');
    });

    it('a key validated for one user or content opens nothing else', async () => {
      const { user, device } = await pairUser(r, app.tenant);
      const iid = await firstCall(user);
      await device.approve((await device.requestFor(iid)).request_id);
      await eventually(async () => (await status(iid)) === 'validated', 'validated', 20_000, 200);
      assert.equal((await call(socketHash(), iid)).body.reason, 'mismatch');
      assert.equal((await call(user, iid, { amount: 9999, recipient: 'Eve' })).body.reason, 'mismatch');
      assert.equal((await call(user, iid)).status, 200); // the mismatches did not burn it
    });

    // ----- ApprovalEvents signed by the test, as the relay signs them -----

    it('answers 403 with an instruction id and pushes what the user approves to the device', async () => {
      const { user, device } = await pairUser(r, app.tenant);
      const iid = await firstCall(user);
      const req = await device.requestFor(iid);
      assert.equal(req.content.display.title, 'Confirm the transfer');
      assert.deepEqual(
        req.content.display.fields.map((f: any) => [f.key, f.value, f.data_type]),
        [
          ['amount', '120', 'CURRENCY_USD'],
          ['to', 'Bob Martin', 'PARTY_NAME'],
        ],
      );
      assert.equal(req.content.expected_action, 'transfer_funds');
      const rec = await app.bloonio.store.get(iid);
      assert.equal(rec?.status, 'pending');
      assert.equal(rec?.userSocketHash, user);
      assert.equal(rec?.fingerprint, fingerprint(user, 'transfer_funds', FIELDS));
      const pending = await call(user, iid);
      assert.equal(pending.status, 403);
      assert.equal(pending.body.error, 'SUDO_INSTRUCTION_PENDING');
      assert.equal(pending.body.instruction_id, iid);
    });

    it('an ApprovalEvent validates the instruction for one re-call, and a redelivery changes nothing', async () => {
      const { user } = await pairUser(r, app.tenant);
      const before = app.executed.length;
      // Nobody answers on the device: the only ApprovalEvents are the ones this test signs.
      const iid = await firstCall(user);
      // An event naming another user does not validate it.
      const wrong = approvalEnvelope(app.tenant, iid, 'approved', socketHash());
      assert.equal((await app.postRaw('/api/sudo-callback', wrong, signed(app.tenant, wrong))).body.reason, 'mismatch');
      const body = approvalEnvelope(app.tenant, iid, 'approved', user);
      const res = await app.postRaw('/api/sudo-callback/', body, signed(app.tenant, body)); // either spelling of the path
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { received: true, applied: true, reason: 'validated' });
      assert.equal((await call(user, iid)).status, 200);
      const reused = await call(user, iid);
      assert.equal(reused.status, 403);
      assert.deepEqual([reused.body.error, reused.body.reason], ['SUDO_INSTRUCTION_KEY_INVALID', 'reused']);
      assert.deepEqual(app.executed.slice(before), [{ user, ...BODY }]);
      // The relay retries with the same body and a new signature: nothing changes.
      const again = await app.postRaw('/api/sudo-callback', body, signed(app.tenant, body));
      assert.deepEqual(again.body, { received: true, applied: false, reason: 'already_final' });
    });

    it('denied, expired and cancelled instructions are refused with their reason, and nothing runs', async () => {
      const before = app.executed.length;
      for (const final of ['denied', 'expired', 'cancelled']) {
        const { user } = await pairUser(r, app.tenant);
        const iid = await firstCall(user);
        const body = approvalEnvelope(app.tenant, iid, final, user);
        assert.equal((await app.postRaw('/api/sudo-callback', body, signed(app.tenant, body))).body.reason, final);
        const res = await call(user, iid);
        assert.equal(res.status, 403);
        assert.deepEqual([res.body.error, res.body.reason], ['SUDO_INSTRUCTION_KEY_INVALID', final]);
      }
      assert.equal(app.executed.length, before);
    });

    it('a key validated for 120 USD to Bob opens neither another amount nor another user', async () => {
      const { user } = await pairUser(r, app.tenant);
      const iid = await firstCall(user);
      const body = approvalEnvelope(app.tenant, iid, 'approved', user);
      await app.postRaw('/api/sudo-callback', body, signed(app.tenant, body));
      assert.equal((await call(user, iid, { amount: 9999, recipient: 'Eve' })).body.reason, 'mismatch');
      assert.equal((await call(socketHash(), iid)).body.reason, 'mismatch');
      assert.equal((await call(user, iid)).status, 200);
    });

    it('refuses forged, stale, other-tenant, replayed and tampered ApprovalEvents', async () => {
      const t = app.tenant;
      const body = approvalEnvelope(t, 'sudo_unknown', 'approved', 'usr_x');
      const bad = await app.postRaw('/api/sudo-callback', body, signed(t, body, { secret: 'sk_not_the_secret' }));
      assert.equal(bad.status, 401);
      assert.deepEqual(bad.body, { error: 'INVALID_CALLBACK', reason: 'invalid_signature' });
      const stale = await app.postRaw('/api/sudo-callback', body, signed(t, body, { tsMs: Date.now() - 45_000 }));
      assert.equal(stale.body.reason, 'timestamp_out_of_window');
      const other = await app.postRaw('/api/sudo-callback', body, signed(t, body, { tenantId: `tnt_${'1'.repeat(24)}` }));
      assert.equal(other.body.reason, 'wrong_tenant');
      const missing = await app.postRaw('/api/sudo-callback', body, { 'Content-Type': 'application/json' });
      assert.equal(missing.body.reason, 'missing_headers');
      const headers = signed(t, body);
      const first = await app.postRaw('/api/sudo-callback', body, headers);
      assert.equal(first.status, 200);
      assert.deepEqual(first.body, { received: true, applied: false, reason: 'unknown' });
      const replayed = await app.postRaw('/api/sudo-callback', body, headers);
      assert.equal(replayed.status, 401);
      assert.equal(replayed.body.error, 'REPLAY_DETECTED');
      const tampered = body.replace('"approved"', '"approvex"');
      assert.equal((await app.postRaw('/api/sudo-callback', tampered, signed(t, body))).status, 401);
    });

    it('refuses unknown keys, callers without a user, and users without a device', async () => {
      const unknown = await call(socketHash(), `sudo_${'0'.repeat(32)}`);
      assert.equal(unknown.status, 403);
      assert.deepEqual([unknown.body.error, unknown.body.reason], ['SUDO_INSTRUCTION_KEY_INVALID', 'unknown']);
      const before = app.executed.length;
      const anon = await call(null);
      assert.equal(anon.status, 401);
      assert.equal(anon.body.error, 'SUDO_USER_UNKNOWN');
      const nobody = await call(socketHash());
      assert.equal(nobody.status, 403);
      assert.equal(nobody.body.error, 'SUDO_NO_DEVICE');
      assert.equal(app.executed.length, before);
    });

    it('replays a stored quorum mutation once when its ApprovalEvent says approved, never when denied', async () => {
      const core = app.bloonio;
      const project = `prj_${randomBytes(4).toString('hex')}`;
      const opId = newInstructionId();
      await core.pendingOps.create({ ...emptyOp(opId), payload: { project_id: project } });
      const approvals = [
        { who: { relay_user_linked_id: 'a'.repeat(24), backend_user_id: 'u1', tenant_id: app.tenant.tenantId }, decision: 'approve' },
      ];
      const body = approvalEnvelope(app.tenant, opId, 'approved', null, {
        action: 'delete_project',
        eventType: 'sudo_group_action',
        approvals,
      });
      const res = await app.postRaw('/api/sudo-callback', body, signed(app.tenant, body));
      assert.deepEqual(res.body, { received: true, applied: true, reason: 'done' });
      const op = await core.pendingOp(opId);
      assert.equal(op?.status, 'done');
      assert.deepEqual(op?.result, { deleted: project });
      assert.equal((op?.approvals[0] as any).who.relayUserLinkedId, 'a'.repeat(24));
      assert.equal(app.replayed.filter((x) => x.project_id === project).length, 1);
      const again = await app.postRaw('/api/sudo-callback', body, signed(app.tenant, body));
      assert.equal(again.body.reason, 'already_final');
      assert.equal(app.replayed.filter((x) => x.project_id === project).length, 1);
      const deniedId = newInstructionId();
      await core.pendingOps.create({ ...emptyOp(deniedId), payload: { project_id: `${project}-2` } });
      const denied = approvalEnvelope(app.tenant, deniedId, 'denied', null, { action: 'delete_project', eventType: 'sudo_group_action' });
      assert.equal((await app.postRaw('/api/sudo-callback', denied, signed(app.tenant, denied))).body.reason, 'denied');
      assert.equal(app.replayed.filter((x) => x.project_id === `${project}-2`).length, 0);
    });

    it('a quorum request the relay refuses leaves no pending op behind', async () => {
      const project = `prj_${randomBytes(4).toString('hex')}`;
      const res = await app.post(
        '/projects/delete',
        { project_id: project, group_id: 'grp_does_not_exist' },
        { 'X-Test-User': socketHash() },
      );
      assert.ok(res.status >= 400, `answered ${res.status}`);
      const { Redis } = await import('ioredis');
      const redis = new Redis(r.redisUrl);
      try {
        const keys = await redis.keys(`${app.statePrefix}:op:*`);
        const ops = keys.length ? await redis.mget(...keys) : [];
        assert.deepEqual(
          ops.filter((o) => o?.includes(project)),
          [],
        );
      } finally {
        redis.disconnect();
      }
    });

    it('submit-response refuses an unknown instruction and a body without one', async () => {
      const unknown = await app.post('/_bloonio/submit-response', { instruction_id: 'sudo_nope', response: '123456' });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error, 'SUDO_INSTRUCTION_UNKNOWN');
      const invalid = await app.post('/_bloonio/submit-response', { response: '1' });
      assert.equal(invalid.status, 422);
      assert.equal(invalid.body.error, 'VALIDATION_FAILED');
    });

    // ----- totp / goldenNumber: the approval alone opens nothing; the code typed in this session does -----

    const submit = (user: string, session: string, iid: string, response: string) =>
      app.post('/_bloonio/submit-response', { instruction_id: iid, response }, { 'X-Test-User': user, 'X-Test-Session': session });
    const recall = (user: string, session: string, iid: string, path: string) =>
      app.post(path, {}, { 'X-Test-User': user, 'X-Test-Session': session, [KEY]: iid });
    async function typedFirstCall(user: string, session: string, path: string) {
      const res = await app.post(path, {}, { 'X-Test-User': user, 'X-Test-Session': session });
      assert.equal(res.status, 403, JSON.stringify(res.body));
      assert.equal(res.body.error, 'SUDO_INSTRUCTION_KEY_REQUIRED');
      return res.body as { instruction_id: string; number?: number };
    }
    /** The relay's ApprovalEvent of `iid` reached the app (the instruction is no longer pending). */
    const approvalDelivered = (iid: string) =>
      eventually(async () => (await status(iid)) !== 'pending', 'the ApprovalEvent reached the app', 20_000, 200);

    it('totp: approving on the device without the code typed on the page leaves the re-call refused', async () => {
      const { user, device } = await pairUser(r, app.tenant);
      const session = `sess_${randomBytes(6).toString('hex')}`;
      const before = app.executed.length;
      const { instruction_id: iid } = await typedFirstCall(user, session, '/transfer/totp');
      assert.equal((await device.approve((await device.requestFor(iid)).request_id, '482913')).status, 200);
      await approvalDelivered(iid);
      assert.equal(await status(iid), 'awaiting_response');
      const res = await recall(user, session, iid, '/transfer/totp');
      assert.equal(res.status, 403, JSON.stringify(res.body));
      assert.equal(res.body.error, 'SUDO_RESPONSE_REQUIRED');
      assert.equal(app.executed.length, before);
    });

    it('totp: a wrong code is refused and counts toward the relay’s limit of tries', async () => {
      const { user, device } = await pairUser(r, app.tenant);
      const session = `sess_${randomBytes(6).toString('hex')}`;
      const before = app.executed.length;
      const { instruction_id: iid } = await typedFirstCall(user, session, '/transfer/totp');
      await device.approve((await device.requestFor(iid)).request_id, '482913');
      await approvalDelivered(iid);
      for (let i = 0; i < 5; i++) {
        const wrong = await submit(user, session, iid, '000000');
        assert.equal(wrong.status, 200, JSON.stringify(wrong.body));
        assert.equal(wrong.body.matched, false);
        const res = await recall(user, session, iid, '/transfer/totp');
        assert.equal(res.status, 403, JSON.stringify(res.body));
      }
      // The relay's limit (5 tries per instruction) is reached: even the right code is refused now.
      const limited = await submit(user, session, iid, '482913');
      assert.equal(limited.status, 429, JSON.stringify(limited.body));
      assert.equal(limited.body.error, 'SUDO_RATE_LIMITED');
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);
      assert.equal((await recall(user, session, iid, '/transfer/totp')).status, 403);
      assert.equal(app.executed.length, before);
    });

    it('totp: the code from another session (or another user) is refused; from the session that asked it passes once', async () => {
      const { user, device } = await pairUser(r, app.tenant);
      const other = await pairUser(r, app.tenant);
      const session = `sess_${randomBytes(6).toString('hex')}`;
      const before = app.executed.length;
      const { instruction_id: iid } = await typedFirstCall(user, session, '/transfer/totp');
      await device.approve((await device.requestFor(iid)).request_id, '482913');
      await approvalDelivered(iid);
      for (const [who, sess] of [
        [user, `sess_${randomBytes(6).toString('hex')}`],
        [other.user, session],
        [user, ''],
      ] as const) {
        const res = sess
          ? await submit(who, sess, iid, '482913')
          : await app.post('/_bloonio/submit-response', { instruction_id: iid, response: '482913' });
        assert.equal(res.status, 404, JSON.stringify(res.body));
        assert.equal(res.body.error, 'SUDO_INSTRUCTION_UNKNOWN');
      }
      assert.equal((await recall(user, session, iid, '/transfer/totp')).status, 403);
      const right = await submit(user, session, iid, '482913');
      assert.equal(right.status, 200, JSON.stringify(right.body));
      assert.deepEqual(right.body, { instruction_id: iid, status: 'approved', matched: true });
      assert.equal(await status(iid), 'validated');
      const ok = await recall(user, session, iid, '/transfer/totp');
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal(ok.body.executed, true);
      assert.equal((await recall(user, session, iid, '/transfer/totp')).body.reason, 'reused');
      assert.deepEqual(app.executed.slice(before), [{ user, totp: true }]);
    });

    it('goldenNumber without numbers: the page shows a number the person must pick on the device', async () => {
      const { user, device } = await pairUser(r, app.tenant);
      const session = `sess_${randomBytes(6).toString('hex')}`;
      const before = app.executed.length;
      const first = await typedFirstCall(user, session, '/transfer/golden');
      const iid = first.instruction_id;
      assert.equal(typeof first.number, 'number');
      const req = await device.requestFor(iid);
      const offered: number[] = req.content.numbers;
      assert.ok(offered.length >= 3 && offered.includes(first.number as number), JSON.stringify(offered));
      assert.equal(new Set(offered).size, offered.length);
      await device.approve(req.request_id, String(first.number));
      await approvalDelivered(iid);
      assert.equal((await recall(user, session, iid, '/transfer/golden')).body.error, 'SUDO_RESPONSE_REQUIRED');
      const right = await submit(user, session, iid, String(first.number));
      assert.equal(right.body.matched, true, JSON.stringify(right.body));
      const ok = await recall(user, session, iid, '/transfer/golden');
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.deepEqual(app.executed.slice(before), [{ user, golden: true }]);
    });

    it('goldenNumber: picking another number than the page shows is a denial', async () => {
      const { user, device } = await pairUser(r, app.tenant);
      const session = `sess_${randomBytes(6).toString('hex')}`;
      const first = await typedFirstCall(user, session, '/transfer/golden');
      const req = await device.requestFor(first.instruction_id);
      const wrong = (req.content.numbers as number[]).find((n) => n !== first.number);
      await device.approve(req.request_id, String(wrong));
      await eventually(async () => (await status(first.instruction_id)) === 'denied', 'denied', 20_000, 200);
      const res = await submit(user, session, first.instruction_id, String(wrong));
      assert.equal(res.status, 409, JSON.stringify(res.body));
      const again = await recall(user, session, first.instruction_id, '/transfer/golden');
      assert.equal(again.body.reason, 'denied');
    });
  });
}

function emptyOp(opId: string) {
  return {
    opId,
    action: 'delete_project',
    payload: {},
    requestedBy: {},
    eventId: null,
    status: 'pending' as const,
    result: null,
    error: null,
    approvals: [],
    createdAt: new Date().toISOString(),
    decidedAt: null,
    finishedAt: null,
  };
}
