/**
 * Sudo step-up (docs/contract.md §2.4) end to end, with real Redis and FerretDB, the reference device protocol
 * and a tenant receiver verifying every callback with HMAC #1: dispatch → devices see it → signed
 * answers → exactly one ApprovalEvent per final state, for single, quorum and cross-organisation
 * approvals; dynamic data shown and signed; expiry, cancel; every refusal with its status and code.
 */
import assert from 'node:assert/strict';
import { createPublicKey, randomBytes, verify } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerSigningStringV2, displayHash } from '../../api/auth/device-protocol.js';
import { CALLBACK_EVENTS } from '../../models/platform/callback-catalogue.js';
import { sign } from '../../platform/signing.js';
import type { DeviceClient, OpenRequest } from '../../scripts/device.js';
import { provision, signed, type TenantCreds } from '../support/client.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { eventually, sleep, spawnApi, startRelay, type Child, type Relay } from '../support/harness.js';
import { challengeBody, newUserHash, pairDevice, startReceiver, type ReceivedCallback } from './support.js';

type Person = { link: string; backendUserId: string; devices: DeviceClient[] };

describe('auth relay: sudo step-up', function () {
  this.timeout(60_000);
  let relay: Relay;
  let second: Child;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let creds: TenantCreds;

  before(async () => {
    relay = await startRelay('sudo');
    await relay.startWorker();
    second = await spawnApi(relay.env);
    receiver = await startReceiver();
    creds = await provision(relay.baseUrl, {
      rate_limit_per_min: 10_000,
      callback_url_base: receiver.url,
      branding_display_name: 'Acme Bank',
    });
    receiver.setSecret(creds.secret);
  });
  after(async () => {
    await second?.kill();
    await receiver?.close();
    await relay?.stop();
  });

  const expectError = (r: { status: number; body: any }, status: number, code: string) => {
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.equal(r.body.error?.code, code, JSON.stringify(r.body));
  };

  /** A person of tenant `c` with `n` paired devices (one relay_user link: their backend user id). */
  async function person(c: TenantCreds = creds, n = 1): Promise<Person> {
    const backendUserId = `user-${randomBytes(5).toString('hex')}`;
    const hash = newUserHash();
    const devices: DeviceClient[] = [];
    for (let i = 0; i < n; i++) devices.push(await pairDevice(relay.baseUrl, c, hash, { backendUserId, deviceName: `phone ${i + 1}` }));
    return { link: String(devices[0]!.state.pairing?.relay_user_linked_id), backendUserId, devices };
  }

  const dispatchBody = (extra: Record<string, unknown>) => ({
    event_type: 'sudo_action',
    action_type: 'update',
    instruction_id: `ins-${randomBytes(6).toString('hex')}`,
    expected_action: 'transfer_funds',
    title: 'Confirm the transfer',
    description: 'To ACME Ltd',
    fields: [{ key: 'to', title: 'Beneficiary', value: 'ACME Ltd', data_type: 'PARTY_NAME' }],
    data_access_type: 'static',
    data_items: [{ key: 'amount', title: 'Amount', value: '120.00', data_type: 'CURRENCY_EUR' }],
    ttl_seconds: 120,
    ...extra,
  });
  const dispatch = (extra: Record<string, unknown>, c = creds, base = relay.baseUrl) =>
    signed(base, c, 'POST', '/relay/sudo/dispatch', dispatchBody(extra));

  /** The request as the device sees it in its poll. */
  async function seen(d: DeviceClient, eventId: string): Promise<OpenRequest> {
    return eventually(async () => {
      const r = await d.poll();
      return (r.body.data?.requests as OpenRequest[] | undefined)?.find((q) => q.request_id === eventId);
    });
  }
  const answer = async (d: DeviceClient, eventId: string, decision: 'approve' | 'deny') => d.answerOpen(await seen(d, eventId), decision);

  const approvalEvents = (eventId: string, r = receiver): ReceivedCallback[] =>
    r.received.filter((c) => c.headers['x-bloonio-event-type'] === 'sudo.approval_event' && c.body.data?.event_id === eventId);
  async function approvalEvent(eventId: string, r = receiver): Promise<ReceivedCallback> {
    const cb = await eventually(async () => approvalEvents(eventId, r)[0]);
    assert.equal(cb.path, '/api/sudo-callback', 'the default sudo_callback_path');
    assert.equal(cb.signatureValid, true, 'signed with HMAC #1 by the tenant secret');
    const shape = CALLBACK_EVENTS['sudo.approval_event'].data.safeParse(cb.body.data);
    assert.ok(shape.success, `the ApprovalEvent matches the catalogue: ${JSON.stringify(shape.error?.issues)}`);
    return cb;
  }

  it('sudo_action: dispatch → the device shows who asks and what → approves (signed over what it showed) → one ApprovalEvent', async () => {
    const p = await person();
    const instructionId = `ins-${randomBytes(6).toString('hex')}`;
    const d = await dispatch({ relay_user_linked_id_list: [p.link], instruction_id: instructionId });
    assert.equal(d.status, 201, JSON.stringify(d.body));
    assert.match(d.body.data.event_id, /^sud_/);
    assert.equal(d.body.data.status, 'pending');
    const eventId = d.body.data.event_id as string;

    const shown = await seen(p.devices[0]!, eventId);
    assert.equal(shown.kind, 'sudo');
    assert.equal(shown.content.requester.display_name, 'Acme Bank', 'the device shows which organisation asks');
    assert.equal(shown.content.title, 'Confirm the transfer');
    assert.deepEqual(
      shown.content.data_items.map((i: any) => i.value),
      ['120.00'],
    );
    assert.equal(shown.content._data_fetch_url, undefined);
    const r = await answer(p.devices[0]!, eventId, 'approve');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.data.status, 'approved');

    const cb = await approvalEvent(eventId);
    const ev = cb.body.data;
    assert.equal(ev.status, 'approved');
    assert.equal(ev.event_type, 'sudo_action');
    assert.equal(ev.instruction_id, instructionId);
    assert.equal(ev.approvals.length, 1);
    const a = ev.approvals[0];
    assert.equal(a.who.relay_user_linked_id, p.link);
    assert.equal(a.who.backend_user_id, p.backendUserId);
    assert.equal(a.device.device_id, p.devices[0]!.state.deviceId);
    assert.equal(a.device.device_name, 'phone 1');
    // What you see is what you sign: the tenant can check the device's own signature over the hash of what it showed.
    assert.equal(a.display_hash, displayHash(shown.content));
    const key = createPublicKey({ key: { ...p.devices[0]!.state.publicJwk }, format: 'jwk' });
    const signedString = answerSigningStringV2(eventId, 'approve', null, a.display_hash, a.signed_at_ms);
    assert.ok(verify('sha256', Buffer.from(signedString), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(a.signature, 'base64url')));

    const fetched = await signed(relay.baseUrl, creds, 'GET', `/relay/sudo/fetch/event?event_id=${eventId}`);
    assert.equal(fetched.status, 200, JSON.stringify(fetched.body));
    assert.equal(fetched.body.data.status, 'approved');
    const byInstruction = await signed(relay.baseUrl, creds, 'GET', `/relay/sudo/fetch/event?instruction_id=${ev.instruction_id}`);
    assert.equal(byInstruction.body.data.event_id, eventId);
    expectError(await p.devices[0]!.answerOpen(shown, 'approve'), 409, 'ALREADY_RESOLVED');
    await sleep(300);
    assert.equal(approvalEvents(eventId).length, 1, 'exactly one ApprovalEvent');
  });

  it('quorum 2 of 3: one person with two devices counts once; two distinct people approve it', async () => {
    const [alice, bob, carol] = [await person(creds, 2), await person(), await person()];
    const group = await signed(relay.baseUrl, creds, 'POST', '/relay/sudo/create/group', {
      name: 'Treasury',
      member_relay_user_linked_ids: [alice.link, bob.link, carol.link],
      threshold: 2,
    });
    assert.equal(group.status, 201, JSON.stringify(group.body));
    const d = await dispatch({ event_type: 'sudo_group_action', relay_group_linked_id_list: [group.body.data.group_id] });
    assert.equal(d.status, 201, JSON.stringify(d.body));
    const eventId = d.body.data.event_id as string;
    const carolSees = await seen(carol.devices[0]!, eventId);

    const first = await answer(alice.devices[0]!, eventId, 'approve');
    assert.equal(first.body.data.status, 'pending', JSON.stringify(first.body));
    // Alice's second device: the same person, so it does not count again.
    expectError(await answer(alice.devices[1]!, eventId, 'approve'), 409, 'CONFLICT');
    assert.equal((await signed(relay.baseUrl, creds, 'GET', `/relay/sudo/fetch/event?event_id=${eventId}`)).body.data.status, 'pending');
    const second2 = await answer(bob.devices[0]!, eventId, 'approve');
    assert.equal(second2.body.data.status, 'approved', JSON.stringify(second2.body));
    expectError(await carol.devices[0]!.answerOpen(carolSees, 'approve'), 409, 'ALREADY_RESOLVED');

    const ev = (await approvalEvent(eventId)).body.data;
    assert.equal(ev.status, 'approved');
    assert.equal(ev.threshold, 2);
    assert.deepEqual(ev.approvals.map((a: any) => a.who.relay_user_linked_id).sort(), [alice.link, bob.link].sort());
    await sleep(300);
    assert.equal(approvalEvents(eventId).length, 1);
  });

  it('a denial that makes the quorum unreachable ends it denied at once; deny_on_first_denial ends it at the first', async () => {
    const people = [await person(), await person(), await person()];
    const links = people.map((p) => p.link);
    const d = await dispatch({ event_type: 'sudo_group_action', relay_user_linked_id_list: links, threshold: 2 });
    const eventId = d.body.data.event_id as string;
    assert.equal(
      (await answer(people[0]!.devices[0]!, eventId, 'deny')).body.data.status,
      'pending',
      'two of the others can still approve',
    );
    const r = await answer(people[1]!.devices[0]!, eventId, 'deny');
    assert.equal(r.body.data.status, 'denied', JSON.stringify(r.body));
    const ev = (await approvalEvent(eventId)).body.data;
    assert.equal(ev.status, 'denied');
    assert.equal(ev.denial_reason, 'quorum_unreachable');

    const strict = await signed(relay.baseUrl, creds, 'POST', '/relay/sudo/create/group', {
      name: 'Strict',
      member_relay_user_linked_ids: links,
      threshold: 2,
      deny_on_first_denial: true,
    });
    const d2 = await dispatch({ event_type: 'sudo_group_action', relay_group_linked_id_list: [strict.body.data.group_id] });
    const r2 = await answer(people[2]!.devices[0]!, d2.body.data.event_id, 'deny');
    assert.equal(r2.body.data.status, 'denied');
  });

  it('cross-organisation: through an active grant only; refused without one and after revocation, with no hint the user exists', async () => {
    const otherReceiver = await startReceiver();
    try {
      const b = await provision(relay.baseUrl, { rate_limit_per_min: 10_000, branding_display_name: 'Partner Co' });
      const bUser = await person(b);
      const refused = await dispatch({
        event_type: 'sudo_delegated_action',
        grantor_tenant_id: b.tenantId,
        relay_user_linked_id_list: [bUser.link],
      });
      expectError(refused, 403, 'FORBIDDEN');
      const unknown = await dispatch({
        event_type: 'sudo_delegated_action',
        grantor_tenant_id: b.tenantId,
        relay_user_linked_id_list: [randomBytes(12).toString('hex')],
      });
      expectError(unknown, 403, 'FORBIDDEN');
      assert.equal(unknown.body.message, refused.body.message, 'the same answer for a real and a made-up user');

      const grant = await signed(relay.baseUrl, b, 'POST', '/relay/sudo/create/delegation-grant', {
        grantee_tenant_id: creds.tenantId,
        relay_user_linked_id_list: [bUser.link],
      });
      assert.equal(grant.status, 201, JSON.stringify(grant.body));
      const mine = await signed(relay.baseUrl, creds, 'GET', '/relay/sudo/fetch/delegation-grants');
      assert.deepEqual(
        mine.body.data.received.map((g: any) => g.grant_id),
        [grant.body.data.grant_id],
      );
      assert.deepEqual(mine.body.data.given, []);

      const d = await dispatch({
        event_type: 'sudo_delegated_action',
        grantor_tenant_id: b.tenantId,
        relay_user_linked_id_list: [bUser.link],
      });
      assert.equal(d.status, 201, JSON.stringify(d.body));
      const shown = await seen(bUser.devices[0]!, d.body.data.event_id);
      assert.equal(shown.tenant_id, creds.tenantId);
      assert.equal(shown.content.requester.display_name, 'Acme Bank', "B's device shows that A asks");
      const r = await bUser.devices[0]!.answerOpen(shown, 'approve');
      assert.equal(r.body.data.status, 'approved', JSON.stringify(r.body));
      const ev = (await approvalEvent(d.body.data.event_id)).body.data;
      assert.equal(ev.event_type, 'sudo_delegated_action');
      assert.equal(ev.approvals[0].who.tenant_id, b.tenantId);
      assert.equal(ev.approvals[0].who.backend_user_id, null, "A never learns B's backend user id");

      await signed(relay.baseUrl, b, 'POST', '/relay/sudo/revoke/delegation-grant', { grant_id: grant.body.data.grant_id });
      expectError(
        await dispatch({ event_type: 'sudo_delegated_action', grantor_tenant_id: b.tenantId, relay_user_linked_id_list: [bUser.link] }),
        403,
        'FORBIDDEN',
      );
    } finally {
      await otherReceiver.close();
    }
  });

  it('dynamic data: fetched (signed) when the device opens the request; the answer is signed over its hash', async () => {
    const asked: { headers: http.IncomingHttpHeaders; body: string }[] = [];
    const server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        asked.push({ headers: req.headers, body: raw });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ data_items: [{ key: 'balance', title: 'Balance now', value: '4,210.00', data_type: 'CURRENCY_EUR' }] }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const p = await person();
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sudo-data`;
      const d = await dispatch({
        relay_user_linked_id_list: [p.link],
        data_access_type: 'dynamic',
        data_items: undefined,
        data_fetch_url: url,
      });
      assert.equal(d.status, 201, JSON.stringify(d.body));
      const eventId = d.body.data.event_id as string;
      const listed = await seen(p.devices[0]!, eventId);
      // Answering without opening it: the relay showed this device no data yet.
      const blind = await p.devices[0]!.request('POST', '/device/answer', p.devices[0]!.sudoAnswerBody(listed, 'approve'));
      expectError(blind, 409, 'CONFLICT');
      const opened = await p.devices[0]!.open(eventId);
      assert.equal(opened.status, 200, JSON.stringify(opened.body));
      assert.equal(opened.body.data.content.data_items[0].value, '4,210.00');
      const fetchReq = asked[0]!;
      const ts = String(fetchReq.headers['x-bloonio-timestamp']);
      assert.equal(fetchReq.headers['x-bloonio-signature'], sign(creds.secret, ts, fetchReq.body), 'the data fetch is signed with HMAC #1');
      assert.equal(JSON.parse(fetchReq.body).event_id, eventId);
      // Signed over other data than it was shown: refused.
      const lying = p.devices[0]!.sudoAnswerBody(
        { ...opened.body.data, content: { ...opened.body.data.content, data_items: [] } },
        'approve',
      );
      expectError(await p.devices[0]!.request('POST', '/device/answer', lying), 409, 'CONFLICT');
      const r = await p.devices[0]!.request('POST', '/device/answer', p.devices[0]!.sudoAnswerBody(opened.body.data, 'approve'));
      assert.equal(r.body.data.status, 'approved', JSON.stringify(r.body));
      const ev = (await approvalEvent(eventId)).body.data;
      assert.equal(ev.approvals[0].display_hash, opened.body.data.content.display_hash);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('expiry: a delayed job ends it expired even if nobody answers; a late answer gets 410', async () => {
    const p = await person();
    const d = await dispatch({ relay_user_linked_id_list: [p.link], ttl_seconds: 10 });
    const eventId = d.body.data.event_id as string;
    const listed = await seen(p.devices[0]!, eventId);
    const ev = (await eventually(async () => approvalEvents(eventId)[0], 15_000)).body.data;
    assert.equal(ev.status, 'expired');
    assert.ok(
      Math.abs(Date.parse(ev.decided_at) - Date.parse(ev.expires_at)) < 2000,
      `expired on time: ${ev.decided_at} vs ${ev.expires_at}`,
    );
    expectError(await p.devices[0]!.answerOpen(listed, 'approve'), 410, 'EXPIRED');
  });

  it('cancel: the tenant withdraws a pending event (cancelled ApprovalEvent); twice is 409, another tenant 404', async () => {
    const p = await person();
    const d = await dispatch({ relay_user_linked_id_list: [p.link] });
    const eventId = d.body.data.event_id as string;
    const shown = await seen(p.devices[0]!, eventId);
    const other = await provision(relay.baseUrl, { rate_limit_per_min: 10_000 });
    expectError(await signed(relay.baseUrl, other, 'POST', '/relay/sudo/cancel', { event_id: eventId }), 404, 'NOT_FOUND');
    expectError(await signed(relay.baseUrl, other, 'GET', `/relay/sudo/fetch/event?event_id=${eventId}`), 404, 'NOT_FOUND');
    const c = await signed(relay.baseUrl, creds, 'POST', '/relay/sudo/cancel', { event_id: eventId });
    assert.equal(c.status, 200, JSON.stringify(c.body));
    expectError(await signed(relay.baseUrl, creds, 'POST', '/relay/sudo/cancel', { event_id: eventId }), 409, 'CONFLICT');
    assert.equal((await approvalEvent(eventId)).body.data.status, 'cancelled');
    expectError(await p.devices[0]!.answerOpen(shown, 'approve'), 409, 'ALREADY_RESOLVED');
  });

  it('refusals: tenant_id in the body, static without data_items, dynamic without data_fetch_url (422 naming each); idempotency', async () => {
    const p = await person();
    const bad = await dispatch({ relay_user_linked_id_list: [p.link], tenant_id: creds.tenantId });
    expectError(bad, 422, 'VALIDATION_FAILED');
    assert.ok(
      bad.body.error.details.some((x: string) => x.startsWith('tenant_id:')),
      JSON.stringify(bad.body),
    );
    const noItems = await dispatch({ relay_user_linked_id_list: [p.link], data_items: undefined });
    expectError(noItems, 422, 'VALIDATION_FAILED');
    assert.ok(noItems.body.error.details.some((x: string) => x.startsWith('data_items:')));
    const noUrl = await dispatch({ relay_user_linked_id_list: [p.link], data_access_type: 'dynamic', data_items: undefined });
    assert.ok(
      noUrl.body.error.details.some((x: string) => x.startsWith('data_fetch_url:')),
      JSON.stringify(noUrl.body),
    );
    const nobody = await dispatch({ relay_user_linked_id_list: [] });
    assert.ok(nobody.body.error.details.some((x: string) => x.startsWith('relay_user_linked_id_list:')));
    expectError(await dispatch({ relay_user_linked_id_list: [randomBytes(12).toString('hex')] }), 404, 'NOT_FOUND');

    const body = dispatchBody({ relay_user_linked_id_list: [p.link], idempotency_key: `idem-${randomBytes(4).toString('hex')}` });
    const first = await signed(relay.baseUrl, creds, 'POST', '/relay/sudo/dispatch', body);
    assert.equal(first.status, 201);
    const again = await signed(second.url, creds, 'POST', '/relay/sudo/dispatch', body);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.data.event_id, first.body.data.event_id);
    expectError(await signed(relay.baseUrl, creds, 'POST', '/relay/sudo/dispatch', { ...body, title: 'Another title' }), 409, 'CONFLICT');
  });

  it("an idempotency key whose claim's answer was lost (Redis ran the SET, the connection dropped) does not block the dispatch's repeat", async () => {
    const p = await person();
    // The API reaches Redis through a proxy that loses the answer to the key's claim, as when Redis dies
    // (or the network drops) between running a command and answering it.
    const proxy = await new FaultProxy(Number(new URL(relay.env.REDIS_URL!).port)).start();
    const cut = await spawnApi({ ...relay.env, REDIS_URL: proxy.url });
    try {
      const key = `idem-lost-${randomBytes(4).toString('hex')}`;
      const body = dispatchBody({ relay_user_linked_id_list: [p.link], idempotency_key: key });
      proxy.loseAnswerOnce((req) => req.includes(key) && req.includes('NX'));
      // A careful backend: the same key and body again after an error. Before the fix the orphaned
      // claim answered every repeat 409 "still being created" for its whole life (24 h).
      const got: string[] = [];
      let done: { status: number; body: any } | null = null;
      for (const until = Date.now() + 20_000; !done && Date.now() < until;) {
        const r = await signed(cut.url, creds, 'POST', '/relay/sudo/dispatch', body).catch(() => null);
        got.push(r ? `${r.status} ${r.body?.error?.code ?? ''}` : 'no answer');
        if (r && (r.status === 201 || r.status === 200)) done = r;
        else await sleep(200);
      }
      assert.equal(proxy.lost.length, 1, 'the claim was executed and its answer lost');
      assert.ok(done, `never dispatched within 20 s; the tries got: ${got.join(', ')}`);
      assert.ok(!got.some((g) => g.startsWith('409')), `no repeat was refused as still being created: ${got.join(', ')}`);
      // One event: a repeat through the intact API answers the same one.
      const again = await signed(relay.baseUrl, creds, 'POST', '/relay/sudo/dispatch', body);
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.equal(again.body.data.event_id, done.body.data.event_id);
    } finally {
      await cut.kill();
      await proxy.stop();
    }
  });

  it('device refusals: a forged answer 401, a replayed one 401, a device of another person 404', async () => {
    const p = await person();
    const stranger = await person();
    const d = await dispatch({ relay_user_linked_id_list: [p.link] });
    const eventId = d.body.data.event_id as string;
    const shown = await seen(p.devices[0]!, eventId);
    const forged = { ...p.devices[0]!.sudoAnswerBody(shown, 'deny'), decision: 'approve' };
    expectError(await p.devices[0]!.request('POST', '/device/answer', forged), 401, 'INVALID_SIGNATURE');
    expectError(
      await stranger.devices[0]!.request('POST', '/device/answer', stranger.devices[0]!.sudoAnswerBody(shown, 'approve')),
      404,
      'NOT_FOUND',
    );
    // The very same HTTP request twice (another API process): the device nonce refuses the copy.
    const raw = JSON.stringify(p.devices[0]!.sudoAnswerBody(shown, 'approve'));
    const { deviceRequestHeaders } = await import('../../api/auth/device-protocol.js');
    const headers = {
      ...deviceRequestHeaders(p.devices[0]!.state.privateKeyPem, 'POST', '/api/v1/device/answer', raw),
      Authorization: `Bearer ${p.devices[0]!.state.sessionToken}`,
      'Content-Type': 'application/json',
    };
    assert.equal((await fetch(`${relay.baseUrl}/api/v1/device/answer`, { method: 'POST', headers, body: raw })).status, 200);
    const replay = await fetch(`${second.url}/api/v1/device/answer`, { method: 'POST', headers, body: raw });
    assert.equal(replay.status, 401);
    assert.equal(((await replay.json()) as any).error.code, 'REPLAY_DETECTED');
  });

  it('race: the last two approvals of a quorum at the same instant on two API processes give one final state and one ApprovalEvent', async () => {
    for (let round = 0; round < 3; round++) {
      const people = [await person(), await person(), await person()];
      const d = await dispatch({ event_type: 'sudo_group_action', relay_user_linked_id_list: people.map((x) => x.link), threshold: 2 });
      const eventId = d.body.data.event_id as string;
      const shown = await Promise.all(people.slice(1).map((x) => seen(x.devices[0]!, eventId)));
      // Both answers go out at once, one to each API process.
      const [a, b] = await Promise.all([
        people[1]!.devices[0]!.request('POST', '/device/answer', people[1]!.devices[0]!.sudoAnswerBody(shown[0]!, 'approve')),
        (async () => {
          const dev = people[2]!.devices[0]!;
          const own = dev.state.relay;
          dev.state.relay = second.url;
          try {
            return await dev.request('POST', '/device/answer', dev.sudoAnswerBody(shown[1]!, 'approve'));
          } finally {
            dev.state.relay = own;
          }
        })(),
      ]);
      assert.deepEqual([a.body.data.status, b.body.data.status].sort(), ['approved', 'pending'], JSON.stringify([a.body, b.body]));
      const ev = (await approvalEvent(eventId)).body.data;
      assert.equal(ev.status, 'approved');
      assert.equal(ev.approvals.length, 2);
      await sleep(300);
      assert.equal(approvalEvents(eventId).length, 1, `round ${round}: one ApprovalEvent`);
    }
  });

  it('race: an approval racing the expiry ends in exactly one of the two states', async () => {
    const p = await person();
    const d = await dispatch({ relay_user_linked_id_list: [p.link], ttl_seconds: 10 });
    const eventId = d.body.data.event_id as string;
    const shown = await seen(p.devices[0]!, eventId);
    const expiresAt = Date.parse(d.body.data.expires_at);
    // Answer at the very edge of the expiry, while the delayed job is due.
    await sleep(Math.max(0, expiresAt - Date.now() - 5));
    const r = await p.devices[0]!.answerOpen(shown, 'approve');
    const ev = (await eventually(async () => approvalEvents(eventId)[0], 15_000)).body.data;
    if (r.status === 200) assert.equal(ev.status, 'approved', JSON.stringify(r.body));
    else {
      expectError(r, 410, 'EXPIRED');
      assert.equal(ev.status, 'expired');
    }
    await sleep(1500);
    assert.equal(approvalEvents(eventId).length, 1, 'one final state, one ApprovalEvent');
  });

  it('submit-response: the code typed into the page is checked against the device answer (totp)', async () => {
    const p = await person();
    const d = await dispatch({ relay_user_linked_id_list: [p.link], custom_type: 'totp' });
    const eventId = d.body.data.event_id as string;
    const instruction = (await signed(relay.baseUrl, creds, 'GET', `/relay/sudo/fetch/event?event_id=${eventId}`)).body.data.instruction_id;
    expectError(
      await signed(relay.baseUrl, creds, 'POST', '/relay/sudo/submit-response', { instruction_id: instruction, response: '123456' }),
      409,
      'CONFLICT',
    );
    const r = await p.devices[0]!.answerOpen(await seen(p.devices[0]!, eventId), 'approve', '482913');
    assert.equal(r.body.data.status, 'approved', JSON.stringify(r.body));
    const wrong = await signed(relay.baseUrl, creds, 'POST', '/relay/sudo/submit-response', {
      instruction_id: instruction,
      response: '000000',
    });
    assert.equal(wrong.body.data.matched, false);
    const right = await signed(relay.baseUrl, creds, 'POST', '/relay/sudo/submit-response', {
      instruction_id: instruction,
      response: '482913',
    });
    assert.equal(right.body.data.matched, true);
  });

  it('goldenNumber without numbers: the relay makes number matching (the page shows one, the person must pick it)', async () => {
    const p = await person();
    const key = `idem-${randomBytes(6).toString('hex')}`;
    const extra = { relay_user_linked_id_list: [p.link], custom_type: 'goldenNumber', idempotency_key: key };
    const body = dispatchBody(extra);
    const d = await signed(relay.baseUrl, creds, 'POST', '/relay/sudo/dispatch', body);
    assert.equal(d.status, 201, JSON.stringify(d.body));
    const number = d.body.data.number as number;
    assert.ok(Number.isInteger(number) && number >= 10 && number <= 99, `number ${number}`);
    // A repeat of the dispatch answers the same number.
    const again = await signed(relay.baseUrl, creds, 'POST', '/relay/sudo/dispatch', body);
    assert.deepEqual([again.status, again.body.data.number], [200, number]);
    const eventId = d.body.data.event_id as string;
    const shown = await seen(p.devices[0]!, eventId);
    const offered = shown.content.numbers as number[];
    assert.equal(offered.length, 3);
    assert.equal(new Set(offered).size, 3);
    assert.ok(offered.includes(number), JSON.stringify(offered));
    assert.equal(JSON.stringify(shown).includes('expected_number'), false, 'the device is never told which one');
    // Another pick than the page shows is a denial.
    const wrong = await p.devices[0]!.answerOpen(shown, 'approve', String(offered.find((n) => n !== number)));
    assert.equal(wrong.status, 200, JSON.stringify(wrong.body));
    assert.equal(wrong.body.data.status, 'denied');
    assert.equal((await approvalEvent(eventId)).body.data.denial_reason, 'number_mismatch');
    // The right pick approves; the page then submits the number it showed.
    const d2 = await dispatch({ relay_user_linked_id_list: [p.link], custom_type: 'goldenNumber' });
    const n2 = d2.body.data.number as number;
    const e2 = d2.body.data.event_id as string;
    const r2 = await p.devices[0]!.answerOpen(await seen(p.devices[0]!, e2), 'approve', String(n2));
    assert.equal(r2.body.data.status, 'approved', JSON.stringify(r2.body));
    const iid = (await signed(relay.baseUrl, creds, 'GET', `/relay/sudo/fetch/event?event_id=${e2}`)).body.data.instruction_id;
    const typed = await signed(relay.baseUrl, creds, 'POST', '/relay/sudo/submit-response', { instruction_id: iid, response: String(n2) });
    assert.equal(typed.body.data.matched, true, JSON.stringify(typed.body));
    // Only goldenNumber answers a number.
    const local = await dispatch({ relay_user_linked_id_list: [p.link] });
    assert.equal(local.status, 201);
    assert.equal('number' in local.body.data, false);
  });

  it("send/auth-challenge with approval_event: the seed's simple flow gets the same ApprovalEvent at the sudo path", async () => {
    const hash = newUserHash();
    const device = await pairDevice(relay.baseUrl, creds, hash, { backendUserId: 'seed-user' });
    const body = challengeBody(hash, { approval_event: true });
    const sent = await signed(relay.baseUrl, creds, 'POST', '/relay/send/auth-challenge', body);
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    const r = await device.answer(sent.body.data.request_id, 'approve');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const cb = await approvalEvent(sent.body.data.request_id);
    assert.equal(cb.body.data.event_type, 'auth_challenge');
    assert.equal(cb.body.data.instruction_id, body.instruction_id);
    assert.equal(cb.body.data.status, 'approved');
    assert.equal(cb.body.data.user_socket_hash, hash);
    assert.equal(cb.body.data.approvals[0].who.backend_user_id, 'seed-user');
    const polled = await signed(relay.baseUrl, creds, 'GET', `/relay/sudo/fetch/event?instruction_id=${body.instruction_id}`);
    assert.equal(polled.body.data.status, 'approved');
  });
});
