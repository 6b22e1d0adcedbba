/**
 * Auth Relay push challenges (docs/contract.md §2.2) through HTTP, queue and worker, against real Redis and
 * FerretDB, with a relay that has no FCM credentials (delivery by device polling): the device
 * polls, answers signed by its key, the tenant receives the signed callback, delivery-status shows
 * the outcome; and every refusal of the answer protocol.
 */
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { countPrompt } from '../../models/auth/prompt-fatigue.js';
import type { FlowDeps } from '../../models/platform/deps.js';
import { DomainError } from '../../platform/errors.js';
import { DeviceClient } from '../../scripts/device.js';
import { provision, signed, type TenantCreds } from '../support/client.js';
import { eventually, sleep, spawnApi, startRelay, type Child, type Relay } from '../support/harness.js';
import { signedRouteSecurity } from '../support/security-suite.js';
import { challengeBody, newUserHash, pairDevice, startReceiver } from './support.js';

describe('auth relay: push challenges answered by polling devices', function () {
  this.timeout(40_000);
  let relay: Relay;
  let second: Child;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let creds: TenantCreds;
  before(async () => {
    relay = await startRelay('auth_chall');
    await relay.startWorker();
    second = await spawnApi(relay.env);
    receiver = await startReceiver();
    creds = await provision(relay.baseUrl, { rate_limit_per_min: 10_000, callback_url_base: receiver.url });
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
  const challenge = (body: Record<string, unknown>, c = creds) => signed(relay.baseUrl, c, 'POST', '/relay/send/auth-challenge', body);
  const status = (instructionId: string) =>
    signed(relay.baseUrl, creds, 'GET', `/relay/fetch/delivery-status?instruction_id=${instructionId}`);

  it('end to end: challenge → device polls → approves → signed callback → delivery-status approved', async () => {
    const hash = newUserHash();
    const device = await pairDevice(relay.baseUrl, creds, hash);
    const body = challengeBody(hash);
    const sent = await challenge(body);
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    assert.equal(sent.body.message, 'Challenge queued for 1 polling device(s) (GET /device/requests).'); // was "pushed to 0 device(s)" (issue 9)
    assert.equal(sent.body.data.instruction_id, body.instruction_id);
    assert.equal(sent.body.data.polling_count, 1, 'no FCM credentials: the device polls');
    assert.deepEqual(sent.body.data.fcm_message_ids, []);

    const polled = await device.poll();
    assert.equal(polled.status, 200, JSON.stringify(polled.body));
    const open = polled.body.data.requests.find((r: any) => r.instruction_id === body.instruction_id);
    assert.ok(open, 'the challenge is in the poll');
    assert.equal(open.content.expected_action, 'transfer_funds');
    assert.deepEqual(
      open.content.display.fields.map((f: any) => f.data_type),
      ['CURRENCY_USD', 'PARTY_NAME'],
    );

    const answered = await device.answer(open.request_id, 'approve');
    assert.equal(answered.status, 200, JSON.stringify(answered.body));
    assert.equal(answered.body.data.status, 'approved');

    const cb = await eventually(async () => receiver.received.find((c) => c.body.data?.instruction_id === body.instruction_id));
    assert.equal(cb.path, '/relay-callbacks/auth-challenge');
    assert.equal(cb.signatureValid, true, 'callback signed with HMAC #1 by the tenant secret');
    assert.equal(cb.headers['x-bloonio-event-type'], 'auth_challenge.approved');
    assert.equal(cb.body.data.status, 'approved');
    assert.equal(cb.body.data.device_id, device.state.deviceId);
    assert.equal(cb.body.data.user_socket_hash, hash);

    const st = await status(body.instruction_id);
    assert.equal(st.status, 200, JSON.stringify(st.body));
    assert.equal(st.body.data.status, 'approved');
    assert.equal(st.body.data.outcome.decision, 'approve');
    assert.deepEqual(
      st.body.data.deliveries.map((d: any) => [d.device_id, d.status]),
      [[device.state.deviceId, 'no_token']],
    );
    assert.equal(
      (await device.poll()).body.data.requests.some((r: any) => r.instruction_id === body.instruction_id),
      false,
      'no longer open',
    );
  });

  it('refusals: wrong answer signature 401, replayed answer 401, second answer 409 (from another device too)', async () => {
    const hash = newUserHash();
    const a = await pairDevice(relay.baseUrl, creds, hash);
    const b = await pairDevice(relay.baseUrl, creds, hash);
    const sent = await challenge(challengeBody(hash));
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    const id = sent.body.data.request_id;

    // Signed by another key.
    const stranger = DeviceClient.create(relay.baseUrl);
    const forged = { ...a.answerBody(id, 'approve'), signature: stranger.answerBody(id, 'approve').signature };
    expectError(await a.request('POST', '/device/answer', forged), 401, 'INVALID_SIGNATURE');
    // Signature over "deny" presented as "approve".
    expectError(await a.request('POST', '/device/answer', { ...a.answerBody(id, 'deny'), decision: 'approve' }), 401, 'INVALID_SIGNATURE');

    // The very same HTTP request twice: the second is a replay (even on another API process).
    const raw = JSON.stringify(a.answerBody(id, 'deny'));
    const { deviceRequestHeaders } = await import('../../api/auth/device-protocol.js');
    const headers = {
      ...deviceRequestHeaders(a.state.privateKeyPem, 'POST', '/api/v1/device/answer', raw),
      Authorization: `Bearer ${a.state.sessionToken}`,
      'Content-Type': 'application/json',
    };
    const first = await fetch(`${relay.baseUrl}/api/v1/device/answer`, { method: 'POST', headers, body: raw });
    assert.equal(first.status, 200);
    const replay = await fetch(`${second.url}/api/v1/device/answer`, { method: 'POST', headers, body: raw });
    assert.equal(replay.status, 401);
    assert.equal(((await replay.json()) as any).error.code, 'REPLAY_DETECTED');

    // A fresh, valid second answer: the request already resolved.
    expectError(await a.answer(id, 'approve'), 409, 'ALREADY_RESOLVED');
    expectError(await b.answer(id, 'approve'), 409, 'ALREADY_RESOLVED');
    const st = await status(sent.body.data.instruction_id);
    assert.equal(st.body.data.status, 'denied');
  });

  it('two devices answering at once: exactly one wins, the other gets 409', async () => {
    const hash = newUserHash();
    const a = await pairDevice(relay.baseUrl, creds, hash);
    const b = await pairDevice(relay.baseUrl, creds, hash);
    const sent = await challenge(challengeBody(hash));
    const id = sent.body.data.request_id;
    const results = await Promise.all([a.answer(id, 'approve'), b.answer(id, 'deny')]);
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 409], JSON.stringify(results.map((r) => r.body)));
  });

  it('410 for an answer after expiry; the expiry job sends the expired callback', async () => {
    const hash = newUserHash();
    const device = await pairDevice(relay.baseUrl, creds, hash);
    const body = challengeBody(hash, { ttl_seconds: 10 });
    const sent = await challenge(body);
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    await sleep(10_300);
    expectError(await device.answer(sent.body.data.request_id, 'approve'), 410, 'EXPIRED');
    const cb = await eventually(async () => receiver.received.find((c) => c.body.data?.instruction_id === body.instruction_id));
    assert.equal(cb.headers['x-bloonio-event-type'], 'auth_challenge.expired');
    assert.equal(cb.signatureValid, true);
    assert.equal((await status(body.instruction_id)).body.data.status, 'expired');
  });

  it('goldenNumber: the relay checks the expected number; a wrong pick is a denial', async () => {
    const hash = newUserHash();
    const device = await pairDevice(relay.baseUrl, creds, hash);
    const wrong = await challenge(challengeBody(hash, { custom_type: 'goldenNumber', numbers: [12, 47, 83], expected_number: 47 }));
    assert.equal(wrong.status, 200, JSON.stringify(wrong.body));
    expectError(await device.answer(wrong.body.data.request_id, 'approve', '99'), 422, 'VALIDATION_FAILED');
    const r1 = await device.answer(wrong.body.data.request_id, 'approve', '12');
    assert.deepEqual(
      [r1.status, r1.body.data.status, r1.body.data.number_matched, r1.body.data.reason],
      [200, 'denied', false, 'number_mismatch'],
    );

    const right = await challenge(challengeBody(hash, { custom_type: 'goldenNumber', numbers: [12, 47, 83], expected_number: 47 }));
    const r2 = await device.answer(right.body.data.request_id, 'approve', '47');
    assert.deepEqual([r2.status, r2.body.data.status, r2.body.data.number_matched], [200, 'approved', true]);
    const polled = await device.poll();
    assert.ok(!JSON.stringify(polled.body).includes('expected_number'), 'the expected number never reaches the device');
  });

  it('422 for ttl outside 10–600, goldenNumber without numbers, an unknown data_type', async () => {
    const hash = newUserHash();
    await pairDevice(relay.baseUrl, creds, hash);
    for (const ttl of [9, 601]) {
      const r = await challenge(challengeBody(hash, { ttl_seconds: ttl }));
      expectError(r, 422, 'VALIDATION_FAILED');
      assert.ok(
        r.body.error.details.some((d: string) => d.startsWith('ttl_seconds:')),
        JSON.stringify(r.body.error.details),
      );
    }
    expectError(await challenge(challengeBody(hash, { custom_type: 'goldenNumber' })), 422, 'VALIDATION_FAILED');
    expectError(
      await challenge(
        challengeBody(hash, { display: { title: 'x', fields: [{ key: 'a', title: 'A', value: '1', data_type: 'BITCOIN' }] } }),
      ),
      422,
      'VALIDATION_FAILED',
    );
  });

  it("404 for another tenant's user_socket_hash (send and delivery-status); 409 for a reused instruction_id", async () => {
    const hash = newUserHash();
    await pairDevice(relay.baseUrl, creds, hash);
    const other = await provision(relay.baseUrl, { rate_limit_per_min: 10_000 });
    expectError(await challenge(challengeBody(hash), other), 404, 'NOT_FOUND');
    const body = challengeBody(hash);
    assert.equal((await challenge(body)).status, 200);
    expectError(
      await signed(relay.baseUrl, other, 'GET', `/relay/fetch/delivery-status?instruction_id=${body.instruction_id}`),
      404,
      'NOT_FOUND',
    );
    expectError(await challenge(body), 409, 'CONFLICT');
  });

  it('a challenge whose jobs could not be queued (503) is completed by its resend, not refused as a reused instruction_id', async () => {
    const hash = newUserHash();
    const device = await pairDevice(relay.baseUrl, creds, hash);
    const body = challengeBody(hash);
    // Every add to the push queue fails before it writes anything (BullMQ reads the queue's meta hash
    // first): the request is written, its jobs are not, as when Redis fails or the API dies between.
    const redis = new Redis(relay.config.redisUrl);
    const meta = relay.producer.queue('push').keys.meta!;
    const withoutPushQueue = async (send: () => ReturnType<typeof challenge>) => {
      const saved = await redis.dumpBuffer(meta);
      try {
        await redis.set(meta, 'not a hash');
        return await send();
      } finally {
        await redis.del(meta);
        if (saved) await redis.restore(meta, 0, saved);
      }
    };
    try {
      expectError(await withoutPushQueue(() => challenge(body)), 503, 'STORE_UNAVAILABLE');
      // Told to try again, the backend resends the same body: the relay completes that request.
      const again = await challenge(body);
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.equal(again.body.data.instruction_id, body.instruction_id);
      const open = (await device.poll()).body.data.requests.find((r: any) => r.instruction_id === body.instruction_id);
      assert.ok(open, 'the device finds the challenge');
      assert.equal(open.request_id, again.body.data.request_id, 'the request the first try wrote, not a second one');
      assert.equal((await device.answer(open.request_id, 'approve')).status, 200);
      const cb = await eventually(async () => receiver.received.find((c) => c.body.data?.instruction_id === body.instruction_id));
      assert.equal(cb.body.data.status, 'approved');
      // Accepted now: a further resend is a reused instruction_id, as before.
      expectError(await challenge(body), 409, 'CONFLICT');
      // A different body under an instruction_id whose first try was never queued is refused too.
      const other = challengeBody(hash);
      expectError(await withoutPushQueue(() => challenge(other)), 503, 'STORE_UNAVAILABLE');
      expectError(await challenge({ ...other, expected_action: 'something_else' }), 409, 'CONFLICT');
    } finally {
      redis.disconnect();
    }
  });

  it('push fatigue: the 6th challenge to one user within the window gets 429 with Retry-After', async () => {
    const hash = newUserHash();
    await pairDevice(relay.baseUrl, creds, hash);
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 6; i++) {
      last = await challenge(challengeBody(hash));
      statuses.push(last.status);
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
    assert.equal(last!.body.error.code, 'RATE_LIMITED');
    assert.ok(Number(last!.headers.get('retry-after')) >= 1);
  });

  it('push fatigue counts any 60 s, not calendar minutes: five prompts just before a minute turns leave none for just after', async () => {
    const redis = new Redis(relay.config.redisUrl);
    try {
      const deps = { config: relay.config, redis } as unknown as FlowDeps;
      const person = [{ tenantId: creds.tenantId, userSocketHash: newUserHash() }];
      const minute = 60_000 * Math.floor(Date.now() / 60_000);
      for (let i = 0; i < 5; i++) await countPrompt(deps, person, minute + 59_000 + i * 100);
      // A fixed window would start afresh at the minute and let five more through within two seconds.
      const refused = await countPrompt(deps, person, minute + 60_500).catch((e: unknown) => e);
      assert.ok(refused instanceof DomainError && refused.code === 'RATE_LIMITED', String(refused));
      // Retry-After: until the first of the five leaves the window (59.0 s + 60 s, asked at 60.5 s).
      assert.equal(refused.retryAfterS, 59);
      // Once it has left, one more is allowed (and only one).
      await countPrompt(deps, person, minute + 119_000);
      assert.ok((await countPrompt(deps, person, minute + 119_050).catch((e: unknown) => e)) instanceof DomainError);
    } finally {
      redis.disconnect();
    }
  });

  it("a new device raises a new_device security alert on the user's other devices", async () => {
    const hash = newUserHash();
    const first = await pairDevice(relay.baseUrl, creds, hash);
    const second = await pairDevice(relay.baseUrl, creds, hash, { deviceName: 'Unknown tablet' });
    const alerts = (await first.poll()).body.data.requests.filter((r: any) => r.kind === 'security-alert');
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0].content.alert_type, 'new_device');
    assert.match(alerts[0].content.body, /Unknown tablet/);
    assert.equal(alerts[0].answerable, false);
    assert.equal((await second.poll()).body.data.requests.length, 0, 'the new device is not alerted about itself');
  });

  it('send/security-alert reaches every device and takes no answer', async () => {
    const hash = newUserHash();
    const device = await pairDevice(relay.baseUrl, creds, hash);
    const r = await signed(relay.baseUrl, creds, 'POST', '/relay/send/security-alert', {
      user_socket_hash: hash,
      title: 'Password changed',
      body: 'Your password was changed from Paris.',
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.data.status, 'informational');
    const alert = (await device.poll()).body.data.requests.find((x: any) => x.request_id === r.body.data.request_id);
    assert.equal(alert.content.title, 'Password changed');
  });

  const suiteCtx = () => ({ baseUrl: relay.baseUrl, secondBaseUrl: second.url });
  // Addressed to a user no tenant paired: once signed, the route's own 404 (see auth-pairing.test.ts).
  signedRouteSecurity('send/auth-challenge (unpaired user → 404 once signed)', suiteCtx, {
    method: 'POST',
    path: '/relay/send/auth-challenge',
    body: () => challengeBody('ush_never_paired_user'),
    okStatus: 404,
  });
  signedRouteSecurity('send/security-alert (unpaired user → 404 once signed)', suiteCtx, {
    method: 'POST',
    path: '/relay/send/security-alert',
    body: () => ({ user_socket_hash: 'ush_never_paired_user', title: 'T', body: 'B' }),
    okStatus: 404,
  });
  signedRouteSecurity('fetch/delivery-status (unknown instruction → 404 once signed)', suiteCtx, {
    method: 'GET',
    path: '/relay/fetch/delivery-status?instruction_id=ins_never_sent',
    okStatus: 404,
  });
});
